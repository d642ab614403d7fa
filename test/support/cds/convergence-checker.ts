import type { CallArchive } from '../../../runtime/cds/store/call-archive';
import type { CallViewBody, LocalCdsClient } from './cds-http';

/** A site as the checker sees it: its local API and (for owners) its archive. */
export interface CheckedSite {
  readonly id: string;
  readonly client: LocalCdsClient;
  readonly archive: CallArchive;
}

/** A write a local API acknowledged (2xx), as the test recorded it. */
export interface AcknowledgedWrite {
  readonly callId: string;
  readonly kind: 'property' | 'log';
  /** Property name, or log entry id. */
  readonly key: string;
  readonly value: unknown;
  readonly ts: number;
  readonly site: string;
  /** When the test sent the write and when it was acknowledged (`performance.now()`, real time). */
  readonly startedAt: number;
  readonly acknowledgedAt: number;
}

/**
 * Writes this far apart in real time must be stamped in that order: more than any error of a participant's
 * offset to the owner on loopback, far less than the skews the tests inject.
 */
const REAL_TIME_ORDER_MARGIN_MS = 50;

export interface CheckedCall {
  readonly callId: string;
  /** Sites that must hold the owner's view (registered participants). */
  readonly participants: readonly string[];
}

/**
 * After quiescence: every participant's view equals the owner's; the acknowledged write that should win each
 * property (the highest stamp) is the owner's value and every acknowledged log entry is there; writes of a
 * property made one after the other in real time are stamped in that order (a skewed clock reorders nothing);
 * an ended call has exactly one archive record, equal to the owner's final view. Returns one line per violation.
 */
export async function convergenceViolations(sites: readonly CheckedSite[], calls: readonly CheckedCall[], acknowledged: readonly AcknowledgedWrite[]): Promise<string[]> {
  const byId = new Map(sites.map((site) => [site.id, site]));
  const violations: string[] = [];
  for (const { callId, participants } of calls) {
    const owner = byId.get(callId.slice(0, callId.indexOf(':')));
    const ownerView = await owner?.client.call(callId);
    if (!owner || !ownerView) {
      violations.push(`${callId}: the owner holds no record`);
      continue;
    }
    for (const participant of participants) {
      const view = await byId.get(participant)?.client.call(callId);
      if (JSON.stringify(view) !== JSON.stringify(ownerView)) violations.push(`${callId}: ${participant}'s view differs from the owner's:\n  ${JSON.stringify(view)}\n  ${JSON.stringify(ownerView)}`);
    }
    const writes = acknowledged.filter((write) => write.callId === callId);
    violations.push(...missingWrites(ownerView, writes), ...reorderedWrites(callId, writes));
    if (ownerView.state === 'ended') {
      const archived = await owner.archive.read(callId);
      if (!archived) violations.push(`${callId}: ended but not archived`);
      else if (JSON.stringify(archived.view) !== JSON.stringify(ownerView)) violations.push(`${callId}: the archive differs from the owner's final view`);
    }
  }
  return violations;
}

/** Every acknowledged write of each call is in its archive record (the winning value of each property, every log entry). */
export async function archivedWriteViolations(archiveOf: (callId: string) => CallArchive, callIds: readonly string[], acknowledged: readonly AcknowledgedWrite[]): Promise<string[]> {
  const violations: string[] = [];
  for (const callId of callIds) {
    const archived = await archiveOf(callId).read(callId);
    if (!archived) violations.push(`${callId}: not archived`);
    else violations.push(...missingWrites(archived.view as CallViewBody, acknowledged.filter((write) => write.callId === callId)));
  }
  return violations;
}

function missingWrites(view: CallViewBody, writes: readonly AcknowledgedWrite[]): string[] {
  const violations: string[] = [];
  const winners = new Map<string, AcknowledgedWrite>();
  for (const write of writes.filter((candidate) => candidate.kind === 'property')) {
    const best = winners.get(write.key);
    if (!best || write.ts > best.ts || (write.ts === best.ts && write.site > best.site)) winners.set(write.key, write);
  }
  for (const [name, winner] of winners) {
    const held = view.properties[name];
    // A later write than any acknowledged one may hold (one the test did not record); an earlier one may not.
    if (!held || held.ts < winner.ts || (held.ts === winner.ts && JSON.stringify(held.value) !== JSON.stringify(winner.value))) {
      violations.push(`${view.callId}: property ${name} should be ${JSON.stringify(winner.value)} (ts ${winner.ts}, ${winner.site}), holds ${JSON.stringify(held)}`);
    }
  }
  const logIds = new Set(view.logs.map((log) => log.id));
  for (const write of writes.filter((candidate) => candidate.kind === 'log')) {
    if (!logIds.has(write.key)) violations.push(`${view.callId}: log entry ${write.key} is missing`);
  }
  return violations;
}

function reorderedWrites(callId: string, writes: readonly AcknowledgedWrite[]): string[] {
  const properties = writes.filter((write) => write.kind === 'property');
  return properties.flatMap((earlier) =>
    properties
      .filter((later) => later.key === earlier.key && later.startedAt > earlier.acknowledgedAt + REAL_TIME_ORDER_MARGIN_MS && later.ts <= earlier.ts)
      .map((later) => `${callId}: property ${later.key}: ${JSON.stringify(later.value)} was written after ${JSON.stringify(earlier.value)} was acknowledged but stamped ${later.ts} <= ${earlier.ts}`),
  );
}

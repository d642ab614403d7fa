import type { CallArchive } from '../../../runtime/cds/store/call-archive';
import type { LocalCdsClient } from '../cds/cds-http';
import { archivedWriteViolations } from '../cds/convergence-checker';
import { RecordingWriter } from '../cds/recording-writer';
import { waitFor } from '../wait-for';
import { HELD_JUNK, QUICK_JUNK, type JunkKind, type SoakTarget } from './junk-requests';
import { MemorySampler } from './process-memory';

/** A CDS node under soak: its local API as a client of its site uses it, its archive, and its process. */
export interface SoakSite {
  readonly id: string;
  readonly client: LocalCdsClient;
  readonly archive: CallArchive;
  readonly target: SoakTarget;
  /** The node's process id while it runs. */
  readonly pid: () => number | undefined;
  /** How the process ended, if it has. */
  readonly exit: () => string | undefined;
}

export interface CdsSoakOptions {
  readonly sites: readonly SoakSite[];
  readonly durationMs: number;
  /** Concurrent valid calls (each: created by its owner, joined by one or two other sites, written by all, ended). */
  readonly callWorkers: number;
  /** Concurrent senders of quick junk. */
  readonly junkWorkers: number;
  /** Connections of held junk (slow senders, stalled readers) kept open at once, spread over the nodes. */
  readonly heldConnections: number;
  readonly random?: () => number;
}

export interface CdsSoakReport {
  readonly durationMs: number;
  readonly callsEnded: number;
  readonly writesAcknowledged: number;
  /** Valid requests a node refused (status and reason), e.g. under a cap the junk reached. */
  readonly validRefused: readonly string[];
  readonly junkSent: number;
  /** Per kind of junk: how the attempts ended (`status 401`, `closed`, `held`...) and how often. */
  readonly junkOutcomes: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Junk answered with a 5xx other than 503 (an unhandled failure). */
  readonly junkServerErrors: number;
  readonly peakRssBytes: Readonly<Record<string, number>>;
  readonly exits: Readonly<Record<string, string>>;
  /** Acknowledged writes missing from the archive (must be none). */
  readonly lostWrites: readonly string[];
}

/**
 * Valid calls and junk together against CDS nodes for `durationMs`, then: every ended call's acknowledged writes
 * must be in the archive; no node may have exited; peak RSS is sampled throughout.
 */
export async function runCdsSoak(options: CdsSoakOptions): Promise<CdsSoakReport> {
  const { sites } = options;
  const random = options.random ?? Math.random;
  const sampler = new MemorySampler(() => new Map(sites.map((site) => [site.id, site.pid()])), 250);
  const deadline = Date.now() + options.durationMs;
  const writer = new RecordingWriter();
  const ended: string[] = [];
  const validRefused: string[] = [];
  const junkOutcomes: Record<string, Record<string, number>> = {};
  let junkSent = 0;

  const callWorker = async (worker: number) => {
    for (let n = 0; Date.now() < deadline; n++) {
      const owner = sites[Math.floor(random() * sites.length)];
      const others = sites.filter((site) => site !== owner).sort(() => random() - 0.5);
      const joined = others.slice(0, 1 + Math.floor(random() * others.length));
      const callId = `${owner.id}:soak-${worker}-${n}`;
      try {
        await writer.put(owner, callId, 'caller', `+1555${String(n).padStart(7, '0')}`);
        for (const site of joined) {
          const registered = await site.client.register(callId, 'agent-desktop');
          if (registered.status !== 201) throw new Error(`register at ${site.id}: ${registered.status} ${JSON.stringify(registered.body)}`);
        }
        for (let round = 0; round < 3; round++) {
          for (const site of [owner, ...joined]) {
            await writer.put(site, callId, `note.${site.id}`, { round, at: Date.now() });
            await writer.log(site, callId, `${site.id} round ${round}`);
          }
        }
        const end = await owner.client.end(callId);
        if (end.status !== 200) throw new Error(`end at ${owner.id}: ${end.status} ${JSON.stringify(end.body)}`);
        ended.push(callId);
      } catch (error) {
        validRefused.push(`${callId}: ${(error as Error).message}`);
        // Its acknowledged writes must reach the archive all the same.
        if ((await owner.client.end(callId).catch(() => undefined))?.status === 200) ended.push(callId);
      }
    }
  };

  const junkWorker = (kinds: readonly JunkKind[]) => async () => {
    while (Date.now() < deadline) {
      const kind = kinds[Math.floor(random() * kinds.length)];
      const target = sites[Math.floor(random() * sites.length)].target;
      const outcome = await kind.send(target, random);
      junkSent++;
      const label = outcome.status === undefined ? outcome.ending : `status ${outcome.status}`;
      const counts = (junkOutcomes[kind.name] ??= {});
      counts[label] = (counts[label] ?? 0) + 1;
    }
  };
  const workers = (count: number, work: () => Promise<void>) => Array.from({ length: count }, work);

  await Promise.all([
    ...Array.from({ length: options.callWorkers }, (_, index) => callWorker(index)),
    ...workers(options.junkWorkers, junkWorker(QUICK_JUNK)),
    ...workers(options.heldConnections, junkWorker(HELD_JUNK)),
  ]);
  await waitFor(async () => (await Promise.all(sites.map((site) => site.client.health()))).every((health) => health.deliveriesIdle === true), {
    timeoutMs: 30_000,
    intervalMs: 100,
    message: 'every node to have delivered everything',
  });
  const archiveOf = (callId: string) => sites.find((site) => callId.startsWith(`${site.id}:`))!.archive;
  await waitFor(async () => (await archivedWriteViolations(archiveOf, ended, [])).length === 0, { timeoutMs: 30_000, intervalMs: 200, message: 'every ended call to be archived' });
  const peaks = sampler.stop();
  const exits = Object.fromEntries(sites.flatMap((site) => (site.exit() === undefined ? [] : [[site.id, site.exit()!]])));
  return {
    durationMs: options.durationMs,
    callsEnded: ended.length,
    writesAcknowledged: writer.acknowledged.length,
    validRefused,
    junkSent,
    junkOutcomes,
    junkServerErrors: Object.values(junkOutcomes)
      .flatMap((counts) => Object.entries(counts))
      .filter(([label]) => /^status 5(?!03)/.test(label))
      .reduce((sum, [, count]) => sum + count, 0),
    peakRssBytes: Object.fromEntries(peaks),
    exits,
    lostWrites: await archivedWriteViolations(archiveOf, ended, writer.acknowledged),
  };
}

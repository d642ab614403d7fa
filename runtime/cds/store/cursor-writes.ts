import { errorMessage, type Logger } from '../../shared/logger';
import type { CdsClock } from '../clock/cds-clock';
import type { HlcTimestamp } from '../clock/hlc';
import { InFlight } from '../in-flight';
import { Pacing, spreadAt } from '../clock/pacing';
import type { CallStore, UpstreamCursor } from './cds-store';
import type { TrackedCall } from './tracked-call';

/**
 * A periodic save spreads its writes over this share of the interval. Written back to back, the cursors of a few dozen
 * calls kept the node and its table busy for a quarter of a second every save, and live writes queued behind them
 * (a node's propagation p99 at 1,000 updates/s was those bursts).
 */
const SPREAD_SHARE = 0.5;

interface UnsavedCursor {
  readonly value: HlcTimestamp;
  readonly write: () => Promise<void>;
}

/**
 * Delivery cursors, saved lazily: only the latest value per cursor is kept, and all are written every `intervalMs`
 * (one at a time, spread over half the interval) and on stop (at once). Losing the last ones in a crash only means
 * sending some entries again, which the receiver discards by their timestamps; a write that fails is tried again at
 * the next save. Until a value is in the table, a call read back from the table takes it from here (`restore`): a
 * call evicted from memory meanwhile must not go back to an older cursor.
 */
export class CursorWrites {
  private readonly pending = new Map<string, UnsavedCursor>();
  /** Values taken by a flush whose write has not finished. */
  private readonly saving = new Map<string, UnsavedCursor>();
  private readonly work = new InFlight();
  private cancelTimer?: () => void;
  private readonly pacing: Pacing;
  private closed = false;

  constructor(
    private readonly store: Pick<CallStore, 'advanceParticipant' | 'advanceUpstream'>,
    private readonly clock: CdsClock,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.pacing = new Pacing(clock);
  }

  /** Owner: `site` has received the call's entries up to `ackedTs`. */
  advanceParticipant(callId: string, site: string, ackedTs: HlcTimestamp): void {
    this.set(participantKey(callId, site), ackedTs, () => this.store.advanceParticipant(callId, site, ackedTs));
  }

  /** Participant: this site has received the owner's entries (`receivedTs`), or had its own acknowledged (`ackedTs`). */
  advanceUpstream(callId: string, cursor: UpstreamCursor, value: HlcTimestamp): void {
    this.set(upstreamKey(callId, cursor), value, () => this.store.advanceUpstream(callId, cursor, value));
  }

  /** Forgets an unsaved upstream cursor whose value is being reset, not raised (the reset is written at once). */
  discardUpstream(callId: string, cursor: UpstreamCursor): void {
    this.pending.delete(upstreamKey(callId, cursor));
    this.saving.delete(upstreamKey(callId, cursor));
  }

  /** Raises the cursors of a call just read from the table to the values not saved yet. */
  restore(call: TrackedCall): void {
    const { callId } = call;
    for (const [site, cursor] of call.participants) cursor.ackedTs = Math.max(cursor.ackedTs, this.unsaved(participantKey(callId, site)));
    const upstream = call.upstream;
    if (!upstream) return;
    call.upstream = {
      ...upstream,
      receivedTs: Math.max(upstream.receivedTs, this.unsaved(upstreamKey(callId, 'receivedTs'))),
      ackedTs: Math.max(upstream.ackedTs, this.unsaved(upstreamKey(callId, 'ackedTs'))),
    };
  }

  /** Writes every pending cursor now, one after the other. */
  flush(): Promise<void> {
    return this.save(false);
  }

  /** Writes what is pending and waits for flushes under way. */
  async close(): Promise<void> {
    this.closed = true;
    this.pacing.hurry();
    await this.work.settled();
    await this.flush();
  }

  private async save(paced: boolean): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [key, cursor] of batch) this.saving.set(key, cursor);
    const startedMs = this.clock.monotonicMs();
    const failures: unknown[] = [];
    for (const [index, [key, cursor]] of batch.entries()) {
      if (paced) await this.pacing.until(spreadAt(startedMs, index, batch.length, this.intervalMs * SPREAD_SHARE));
      const failed = await cursor.write().then(
        () => false,
        (error: unknown) => failures.push(error) > 0,
      );
      if (this.saving.get(key) !== cursor) continue;
      this.saving.delete(key);
      if (failed && !this.pending.has(key)) this.pending.set(key, cursor);
    }
    if (this.pending.size > 0) this.schedule();
    if (failures.length > 0) this.logger.warn('some delivery cursors were not saved; entries may be sent again', { failures: failures.length, error: errorMessage(failures[0]) });
  }

  private set(key: string, value: HlcTimestamp, write: () => Promise<void>): void {
    this.pending.set(key, { value, write });
    this.schedule();
  }

  private schedule(): void {
    if (!this.cancelTimer && !this.closed) this.cancelTimer = this.clock.schedule(() => void this.work.track(this.save(true)), this.intervalMs);
  }

  private unsaved(key: string): HlcTimestamp {
    return this.pending.get(key)?.value ?? this.saving.get(key)?.value ?? 0;
  }
}

function participantKey(callId: string, site: string): string {
  return `${callId}#S#${site}`;
}

function upstreamKey(callId: string, cursor: UpstreamCursor): string {
  return `${callId}#U#${cursor}`;
}

import type { CallEntry } from '../call/call-entries';
import { CdsRequestError } from '../call/cds-errors';
import { hlcAtMs, type HlcTimestamp } from './hlc';
import type { HybridClock } from './hybrid-clock';
import type { OwnerClockOffsets } from './owner-clock-offsets';

export interface CallTimestampsOptions {
  readonly site: string;
  /** This site's clock: the time base of the calls it owns. */
  readonly hlc: HybridClock;
  /** Offsets to the owners' clocks: the time base of foreign calls, simulated here. */
  readonly offsets: OwnerClockOffsets;
  /** How far ahead of the owner's clock a participant's stamp may be before the owner refuses it. */
  readonly maxAheadMs: number;
}

/**
 * The timestamp module: every stamp of a call is in its owner's time base. The owner stamps with its hybrid
 * logical clock, and records each entry it accepts with a stamp of its own (`recordedTs`, what deltas are cut
 * on); a participant stamps its writes on the owner's clock as simulated from the time in the owner's replies.
 */
export class CallTimestamps {
  constructor(private readonly options: CallTimestampsOptions) {}

  /** The stamp of a local write to a call owned by `owner`, above `floor` (the highest stamp held). */
  async stampLocalWrite(owner: string, floor: HlcTimestamp): Promise<{ ts: HlcTimestamp; recordedTs?: HlcTimestamp }> {
    if (owner !== this.options.site) return { ts: Math.max(this.options.offsets.ownerNow(owner), floor + 1) };
    this.options.hlc.observe(floor);
    const ts = await this.options.hlc.next();
    return { ts, recordedTs: ts };
  }

  /** Owner: the recording stamp of an entry it accepts from a participant (its clock moves past the entry's). */
  async recordingStamp(entryTs: HlcTimestamp): Promise<HlcTimestamp> {
    this.options.hlc.observe(entryTs);
    return this.options.hlc.next();
  }

  /** Owner: a new stamp (the end of a call). */
  next(): Promise<HlcTimestamp> {
    return this.options.hlc.next();
  }

  /** Owner: refuses a participant's entries stamped too far ahead of its clock (the participant restamps them). */
  refuseStampsAhead(entries: readonly CallEntry[]): void {
    const limit = hlcAtMs(this.options.hlc.nowMs() + this.options.maxAheadMs);
    if (entries.some((entry) => entry.ts > limit)) {
      throw new CdsRequestError(409, `timestamps more than ${this.options.maxAheadMs} ms ahead of the owner's clock`, 'timestamp-ahead');
    }
  }

  /** Participant: the owner's clock now, as simulated here. */
  ownerNow(owner: string): HlcTimestamp {
    return this.options.offsets.ownerNow(owner);
  }

  /** This site's time in milliseconds, given to peers in every reply. */
  nowMs(): number {
    return this.options.hlc.nowMs();
  }
}

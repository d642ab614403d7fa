import type { Logger } from '../../shared/logger';
import type { CallEntry } from '../call/call-entries';
import { CdsRequestError, unknownCall } from '../call/cds-errors';
import type { CursorWrites } from '../store/cursor-writes';
import type { HlcTimestamp } from '../clock/hlc';
import type { LocalCallStore } from '../store/local-call-store';
import type { TrackedCall } from '../store/tracked-call';

export interface RegistrationMonitorOptions {
  readonly site: string;
  readonly calls: LocalCallStore;
  /** Where delivery cursors are saved, lagging behind memory. */
  readonly cursorWrites: CursorWrites;
  readonly logger: Logger;
}

/**
 * The registration monitor of the calls this site owns: the participant list of each call (remote sites that
 * registered for it, each with its delivery cursor), built from their registrations and unregistrations, less
 * those silent past the expiry.
 */
export class RegistrationMonitor {
  /**
   * Sites that left a call held in memory (unregistered or expired), or registered after its end: their writes
   * still in flight, or racing the end, are taken.
   */
  private readonly former = new WeakMap<TrackedCall, Set<string>>();

  constructor(private readonly options: RegistrationMonitorOptions) {}

  /**
   * The call, if `site` takes part in it: registered for it now, left it while this node held it, or wrote
   * to it. Otherwise the request is refused and nothing is created: 404 for a call not known here, 403 for a site
   * that never took part (a peer may not write to, nor unregister from, a call it never registered for).
   */
  async participation(callId: string, site: string): Promise<TrackedCall> {
    const call = await this.options.calls.load(callId);
    if (!call) throw unknownCall(callId);
    const takesPart = call.participants.has(site) || this.former.get(call)?.has(site) === true || call.record.entriesWrittenBy(site, 0).length > 0;
    if (!takesPart) throw new CdsRequestError(403, `site ${site} is not a participant of call ${callId}`, 'not-a-participant');
    return call;
  }

  /**
   * A remote site registers (again); the reply holds what was recorded after its `since`, and its cursor moves
   * past it (`upTo`) once the reply is sent. An ended call keeps no participant: the reply is its final record.
   * A call not known here is refused (404) and not created: only this site's own clients open its calls.
   */
  register(callId: string, site: string, since: HlcTimestamp | undefined): Promise<{ call: TrackedCall; entries: CallEntry[]; upTo: HlcTimestamp }> {
    const { calls } = this.options;
    return calls.inLane(callId, async () => {
      if (!(await calls.load(callId))) throw unknownCall(callId);
      // Known here: listed as open again if it had been closed.
      const call = await calls.loadOrCreate(callId);
      const ackedTs = call.ended ? 0 : (since ?? 0);
      if (!call.ended) {
        await calls.store.putParticipant(callId, { site, ackedTs });
        call.participants.set(site, { ackedTs });
        calls.announce({ kind: 'interest', call });
      } else {
        this.rememberFormer(call, site);
      }
      return { call, entries: call.record.entriesRecordedAfter(ackedTs), upTo: call.record.maxRecordedTs };
    });
  }

  /** A remote site unregistered, was found not registered, or expired. */
  unregister(callId: string, site: string): Promise<void> {
    const { calls } = this.options;
    return calls.inLane(callId, async () => {
      const call = await calls.load(callId);
      if (!call?.participants.has(site)) return;
      await calls.store.deleteParticipant(callId, site);
      call.participants.delete(site);
      this.rememberFormer(call, site);
      calls.announce({ kind: 'interest', call });
    });
  }

  /** `peer` has been silent past the expiry: it is no participant of any live call here any more. */
  async expire(peer: string): Promise<void> {
    // Every open call this site owns, in memory or not (an idle one may have been evicted).
    await this.options.calls.forEachOpenCall(this.options.site, async (call) => {
      if (call.ended || !call.participants.has(peer)) return;
      this.options.logger.info('participant expired', { callId: call.callId, site: peer });
      await this.unregister(call.callId, peer);
    });
  }

  private rememberFormer(call: TrackedCall, site: string): void {
    this.former.set(call, (this.former.get(call) ?? new Set<string>()).add(site));
  }

  /** A participant confirmed receipt up to `ackedTs`. */
  advance(call: TrackedCall, site: string, ackedTs: HlcTimestamp): void {
    const cursor = call.participants.get(site);
    if (!cursor || cursor.ackedTs >= ackedTs) return;
    cursor.ackedTs = ackedTs;
    this.options.cursorWrites.advanceParticipant(call.callId, site, ackedTs);
  }
}

import type { Logger } from '../../shared/logger';
import type { CallEntry } from '../call/call-entries';
import type { DeferredWrites } from '../store/deferred-writes';
import { participantCursorKey } from './cursor-keys';
import type { HlcTimestamp } from '../clock/hlc';
import type { LocalCallStore } from '../store/local-call-store';
import type { TrackedCall } from '../store/tracked-call';

export interface RegistrationMonitorOptions {
  readonly site: string;
  readonly calls: LocalCallStore;
  /** Where delivery cursors are saved, lagging behind memory. */
  readonly cursorWrites: DeferredWrites;
  readonly logger: Logger;
}

/**
 * The registration monitor of the calls this site owns: the participant list of each call (remote sites that
 * registered for it, each with its delivery cursor), built from their registrations and unregistrations, less
 * those silent past the expiry.
 */
export class RegistrationMonitor {
  constructor(private readonly options: RegistrationMonitorOptions) {}

  /**
   * A remote site registers (again); the reply holds what was recorded after its `since`, and its cursor moves
   * past it (`upTo`) once the reply is sent. An ended call keeps no participant: the reply is its final record.
   */
  register(callId: string, site: string, since: HlcTimestamp | undefined): Promise<{ call: TrackedCall; entries: CallEntry[]; upTo: HlcTimestamp }> {
    const { calls } = this.options;
    return calls.inLane(callId, async () => {
      const call = await calls.loadOrCreate(callId);
      const ackedTs = call.ended ? 0 : (since ?? 0);
      if (!call.ended) {
        await calls.store.putParticipant(callId, { site, ackedTs });
        call.participants.set(site, { ackedTs });
        calls.announce({ kind: 'interest', call });
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
      calls.announce({ kind: 'interest', call });
    });
  }

  /** `peer` has been silent past the expiry: it is no participant of any live call here any more. */
  async expire(peer: string): Promise<void> {
    for (const call of this.options.calls.cachedCalls()) {
      if (call.owner !== this.options.site || call.ended || !call.participants.has(peer)) continue;
      this.options.logger.info('participant expired', { callId: call.callId, site: peer });
      await this.unregister(call.callId, peer);
    }
  }

  /** A participant confirmed receipt up to `ackedTs`. */
  advance(call: TrackedCall, site: string, ackedTs: HlcTimestamp): void {
    const cursor = call.participants.get(site);
    if (!cursor || cursor.ackedTs >= ackedTs) return;
    cursor.ackedTs = ackedTs;
    this.options.cursorWrites.set(participantCursorKey(call.callId, site), () => this.options.calls.store.advanceParticipant(call.callId, site, ackedTs));
  }
}

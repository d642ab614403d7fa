import type { Logger } from '../../shared/logger';
import type { CallArchive } from '../store/call-archive';
import type { CallEntry } from '../call/call-entries';
import type { CallTimestamps } from '../clock/call-timestamps';
import { CdsRequestError } from '../call/cds-errors';
import type { HlcTimestamp } from '../clock/hlc';
import { entriesToStore } from '../call/last-writer-wins';
import type { CallChange, LocalCallStore } from '../store/local-call-store';
import type { OutboxMessage } from '../network/outbox-messages';
import { PeerRequestError } from '../network/peer-client';
import { PEER_PATHS, endReplySchema, updateChunks, type EndRequest, type RegisterReply, type RegisterRequest, type UpdatesRequest } from '../network/peer-messages';
import type { RegistrationMonitor } from './registration-monitor';
import type { ReplicationTransport } from './replication-transport';
import type { TrackedCall } from '../store/tracked-call';

export interface OwnerReplicationOptions {
  readonly site: string;
  readonly calls: LocalCallStore;
  readonly participants: RegistrationMonitor;
  readonly timestamps: CallTimestamps;
  /** Amended when a participant's writes reach a call already archived. */
  readonly archive: CallArchive;
  readonly transport: ReplicationTransport;
  readonly logger: Logger;
  /** A participant acknowledged these entries (sent in one update). */
  readonly onAcknowledged?: (entries: readonly CallEntry[]) => void;
}

/**
 * Replication of the calls this site owns: the owner holds the authoritative record, stamps what participants
 * write, sends each participant on its list what it lacks, and tells them of the end. A participant cut off
 * past the end (it could not hear of it) still has its acknowledged writes taken: they amend the record and
 * the archive, and the participant gets the amended final record when it registers again.
 */
export class OwnerReplication {
  private readonly endListeners = new Set<(callId: string, site: string) => void>();

  constructor(private readonly options: OwnerReplicationOptions) {}

  /** After a (re)start: what participants lack of a live call is sent again. */
  resume(call: TrackedCall): void {
    if (!call.ended) this.markDirty(call);
  }

  onLocalChange(change: CallChange): void {
    if (change.kind === 'entries') this.markDirty(change.call);
  }

  /** `site` has taken the end of a call and handed over its writes racing it. */
  onEndAcknowledged(listener: (callId: string, site: string) => void): void {
    this.endListeners.add(listener);
  }

  async handleRegister(request: RegisterRequest): Promise<RegisterReply> {
    const { participants, logger } = this.options;
    const { call, entries, upTo } = await participants.register(request.callId, request.site, request.since);
    // A registrant that says what it holds has its own writes: they are not sent back.
    const delta = request.since === undefined || call.ended ? entries : entries.filter((entry) => entry.site !== request.site);
    logger.info('participant registered', { callId: request.callId, site: request.site, since: request.since ?? 0, entries: delta.length });
    if (!call.ended) {
      // The reply carries the delta; were it lost, the registrant registers again from its `since`.
      participants.advance(call, request.site, upTo);
      this.options.transport.markDirty(request.site, call.callId);
    }
    return { time: this.options.timestamps.nowMs(), state: call.record.state, ...(call.record.endedTs === undefined ? {} : { endedTs: call.record.endedTs }), entries: delta };
  }

  /** Only a participant unregisters; a call not known here is not created. */
  async handleUnregister(request: { callId: string; site: string }): Promise<void> {
    await this.options.calls.inLane(request.callId, () => this.options.participants.participation(request.callId, request.site));
    await this.options.participants.unregister(request.callId, request.site);
  }

  /**
   * A participant's writes, stamped with their recording time; returns the highest write stamp acknowledged. An
   * ended call takes them until it is sealed (the other leg's hangup data races the end); once sealed, they
   * amend the record and its archive before they are acknowledged. Only from a participant of a call known here.
   */
  async handleParticipantWrites(request: UpdatesRequest): Promise<HlcTimestamp> {
    const { calls, timestamps } = this.options;
    const { call, amends } = await calls.inLane(request.callId, async () => {
      const target = await this.options.participants.participation(request.callId, request.site);
      timestamps.refuseStampsAhead(request.entries);
      const sealed = target.ended && !target.finishing;
      const recorded: CallEntry[] = [];
      for (const entry of entriesToStore(target.record, request.entries)) recorded.push({ ...entry, recordedTs: await timestamps.recordingStamp(entry.ts) });
      // A sealed record may go over the budget: refusing would lose writes the participant acknowledged.
      await calls.storeAndApply(target, recorded, { skipBudget: sealed });
      return { call: target, amends: sealed };
    });
    if (amends) await this.amendArchive(call, request.site);
    return Math.max(0, ...request.entries.map((entry) => entry.ts));
  }

  /** What `peer` lacks of a call: the live record, and writes racing the end while the call is finishing. */
  async sendCall(peer: string, call: TrackedCall): Promise<void> {
    if (!call.ended || call.finishing) await this.sendToParticipant(peer, call);
  }

  /** Tells every participant a step of the end, durably (the outbox survives a crash). */
  async announceEnd(call: TrackedCall, step: EndRequest['step']): Promise<void> {
    const body: EndRequest = { callId: call.callId, site: this.options.site, endedTs: call.record.endedTs ?? 0, step };
    for (const peer of call.participants.keys()) await this.options.transport.send({ kind: 'end', peer, callId: call.callId, body });
  }

  /** Before the final step the participant gets the rest of the sealed record, in bounded updates. */
  async sendEnd(message: Extract<OutboxMessage, { kind: 'end' }>): Promise<void> {
    const { calls, transport, logger } = this.options;
    const { body } = message;
    if (body.step === 'final') {
      const call = await calls.find(message.callId);
      if (call) await this.sendToParticipant(message.peer, call);
    }
    const reply = await transport.post(message.peer, PEER_PATHS.end, body, endReplySchema);
    if (body.step === 'final') return;
    try {
      if (reply.entries.length > 0) await this.handleParticipantWrites({ callId: message.callId, site: message.peer, entries: reply.entries });
    } catch (error) {
      if (!(error instanceof CdsRequestError)) throw error;
      logger.warn('writes racing the end came too late for the record', { callId: message.callId, peer: message.peer, entries: reply.entries.length, error: error.message });
    }
    this.endListeners.forEach((listener) => listener(message.callId, message.peer));
  }

  peerExpired(peer: string): Promise<void> {
    return this.options.participants.expire(peer);
  }

  private markDirty(call: TrackedCall): void {
    call.participants.forEach((_, peer) => this.options.transport.markDirty(peer, call.callId));
  }

  private async sendToParticipant(peer: string, call: TrackedCall): Promise<void> {
    const cursor = call.participants.get(peer);
    if (!cursor) return;
    const upTo = call.record.maxRecordedTs;
    const delta = call.record.entriesRecordedAfter(cursor.ackedTs, peer);
    for (const chunk of updateChunks(delta)) {
      try {
        await this.options.transport.sendUpdates(peer, { callId: call.callId, site: this.options.site, entries: chunk });
      } catch (error) {
        if (error instanceof PeerRequestError && error.reason === 'not-registered') {
          await this.options.participants.unregister(call.callId, peer);
          return;
        }
        throw error;
      }
      this.options.onAcknowledged?.(chunk);
      this.options.participants.advance(call, peer, Math.max(...chunk.map((entry) => entry.recordedTs ?? 0)));
    }
    // Entries the participant wrote itself are not sent back, but the cursor passes them.
    this.options.participants.advance(call, peer, upTo);
  }

  /** Writes that reached a sealed call go to its archive too (a failure is retried by the participant). */
  private async amendArchive(call: TrackedCall, site: string): Promise<void> {
    const { archive, calls, logger } = this.options;
    await archive.amend(call.callId, call.owner, call.record.endedTs ?? 0, call.record.entries());
    logger.warn('writes reached the call after its end; archive amended', { callId: call.callId, site });
    await calls.close(call.callId);
  }
}

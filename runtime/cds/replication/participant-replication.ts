import { backoffDelayMs, type BackoffPolicy } from '../../esl/backoff';
import type { CdsClock } from '../clock/cds-clock';
import { errorMessage, type Logger } from '../../shared/logger';
import { logIdOf, type CallEntry } from '../call/call-entries';
import type { CallTimestamps } from '../clock/call-timestamps';
import { CdsRequestError, notRegistered } from '../call/cds-errors';
import type { CursorWrites } from '../store/cursor-writes';
import type { HlcTimestamp } from '../clock/hlc';
import { entriesToStore, supersedes } from '../call/last-writer-wins';
import type { CallChange, LocalCallStore } from '../store/local-call-store';
import type { OutboxMessage } from '../network/outbox-messages';
import { isRegistering, toStoredUpstream, type RegistrationStatus } from './owner-registration';
import { PeerRequestError } from '../network/peer-client';
import { PEER_PATHS, registerReplySchema, updateChunks, type EndReply, type EndRequest, type RegisterReply, type UpdatesRequest } from '../network/peer-messages';
import type { ReplicationTransport } from './replication-transport';
import type { TrackedCall } from '../store/tracked-call';

export interface ParticipantReplicationOptions {
  readonly site: string;
  readonly calls: LocalCallStore;
  readonly timestamps: CallTimestamps;
  /** Where the registration's cursors are saved, lagging behind memory. */
  readonly cursorWrites: CursorWrites;
  readonly transport: ReplicationTransport;
  readonly clock: CdsClock;
  /** Delays between registrations asked for again while the owner does not know the call yet. */
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  readonly logger: Logger;
}

/**
 * Replication of foreign calls (owned by another site) this site takes part in: while a local client wants the
 * call, this site is registered with the owner (one OwnerRegistration per call), sends it this site's writes
 * and takes in its updates. After an outage the registration is renewed with the stamp of what this site
 * holds, also when the owner had dropped it (expired), so both sides converge; own writes the owner never
 * acknowledged are delivered before the owner's final record replaces what this site holds. A registration the
 * owner refuses as for a call it does not know (yet: its collector may not have seen the call) stays `pending`
 * and is asked for again with backoff, apart from the other deliveries, until the owner has the call or the call
 * ends here (at the latest at the maximum call age): there is one retry per open call, so the node's caps bound them.
 */
export class ParticipantReplication {
  private readonly registrationWaiters = new Map<string, Array<(registered: boolean) => void>>();
  /** Per call whose owner does not know it yet: registrations refused so far, and the next retry. */
  private readonly pendingRetries = new Map<string, { attempts: number; cancel?: () => void }>();

  constructor(private readonly options: ParticipantReplicationOptions) {}

  /** After a (re)start: renews registrations, and delivers own writes of calls no longer registered for. */
  async resume(call: TrackedCall): Promise<void> {
    if (call.ended) return;
    if (this.wantsRegistration(call)) await this.register(call);
    else this.deliverPendingWrites(call);
  }

  async onLocalChange(change: CallChange): Promise<void> {
    const { call } = change;
    if (call.ended) return;
    const registering = isRegistering(call.upstream);
    if (change.kind === 'entries' && change.entries.some((entry) => entry.site === this.site)) {
      if (!registering) await this.register(call);
      this.options.transport.markDirty(call.owner, call.callId);
    }
    if (change.kind === 'interest') {
      if (call.clients.size > 0 && !registering) await this.register(call);
      if (call.clients.size === 0 && registering) await this.unregister(call);
    }
  }

  /** Foreign calls whose owner did not know them when asked: their registrations are asked for again. */
  get pendingRegistrations(): number {
    return this.pendingRetries.size;
  }

  /** Registers (again) with the owner, asking for what was recorded after what this site holds; one pending stays so until the owner answers. */
  async register(call: TrackedCall): Promise<void> {
    this.transition(call, call.upstream?.status === 'pending' ? 'pending' : 'requested');
    await this.saveRegistration(call);
    const since = call.upstream?.receivedTs ?? 0;
    await this.options.transport.send({ kind: 'register', peer: call.owner, callId: call.callId, body: { callId: call.callId, site: this.site, ...(since > 0 ? { since } : {}) } });
    // Own writes made before the registration was recorded are sent now.
    this.options.transport.markDirty(call.owner, call.callId);
  }

  /**
   * Resolves true once the owner has answered this site's registration; false when the owner does not know the
   * call yet (the registration is `pending`), or after `timeoutMs`.
   */
  waitUntilRegistered(callId: string, timeoutMs: number): Promise<boolean> {
    const status = this.options.calls.cached(callId)?.upstream?.status;
    if (status === 'confirmed' || status === 'pending') return Promise.resolve(status === 'confirmed');
    return new Promise((resolve) => {
      const cancel = this.options.clock.schedule(() => done(false), timeoutMs);
      const waiters = this.registrationWaiters.get(callId) ?? [];
      const done = (registered: boolean): void => {
        cancel();
        const index = waiters.indexOf(done);
        if (index >= 0) waiters.splice(index, 1);
        resolve(registered);
      };
      waiters.push(done);
      this.registrationWaiters.set(callId, waiters);
    });
  }

  /** Sends a registration from the outbox and takes in the owner's answer. */
  async sendRegistration(message: Extract<OutboxMessage, { kind: 'register' }>): Promise<void> {
    let reply: RegisterReply;
    try {
      reply = await this.options.transport.post(message.peer, PEER_PATHS.register, message.body, registerReplySchema);
    } catch (error) {
      if (!(error instanceof PeerRequestError && error.reason === 'unknown-call')) throw error;
      await this.ownerLacksCall(message.callId);
      return;
    }
    try {
      if (reply.state === 'ended') await this.takeFinalRecord(message, reply);
      else await this.acceptOwnerEntries(message.callId, reply.entries);
    } catch (error) {
      // Unregistered again while the registration was on its way: the unregistration follows it.
      if (!(error instanceof CdsRequestError && error.reason === 'not-registered')) throw error;
    }
    this.cancelRetry(message.callId);
    const call = this.options.calls.cached(message.callId);
    if (call?.upstream?.status === 'requested' || call?.upstream?.status === 'pending') {
      this.transition(call, 'confirmed');
      // Own writes held back until the owner had this site on the call's participants go now.
      this.deliverPendingWrites(call);
    }
    this.wakeWaiters(message.callId, true);
  }

  /**
   * Sends the owner this site's writes it has not acknowledged; closes a call nothing more is owed for. Not while
   * a registration is on its way: the owner takes writes only from its participants (they follow the answer).
   */
  async sendCall(peer: string, call: TrackedCall): Promise<void> {
    if (call.owner !== peer || call.ended || call.upstream?.status === 'requested' || call.upstream?.status === 'pending') return;
    await this.sendToOwner(call);
    const upstream = call.upstream;
    if (upstream && !isRegistering(upstream) && this.pendingWrites(call).length === 0) await this.options.calls.close(call.callId);
  }

  /** Entries from the owner. */
  async handleOwnerUpdates(request: UpdatesRequest): Promise<HlcTimestamp> {
    await this.acceptOwnerEntries(request.callId, request.entries);
    return Math.max(...request.entries.map((entry) => entry.recordedTs ?? 0));
  }

  /** The owner ends the call: `ending` hands over own writes it lacks, `final` tells local clients. */
  async handleEnd(request: EndRequest): Promise<EndReply['entries']> {
    this.cancelRetry(request.callId);
    if (request.step === 'ending') return this.beginOwnerEnd(request.callId, request.endedTs);
    await this.finishOwnerEnd(request.callId, request.endedTs);
    if (this.options.calls.cached(request.callId)) await this.options.calls.close(request.callId);
    return [];
  }

  /** The owner is heard from again after an outage: registrations are renewed, own writes delivered. */
  async peerRecovered(peer: string): Promise<void> {
    await this.options.calls.forEachOpenCall(peer, async (call) => {
      if (call.ended) return;
      if (this.wantsRegistration(call)) await this.register(call);
      else this.deliverPendingWrites(call);
    });
  }

  /** The owner has been silent past the expiry: it has dropped this site, whose clients hear the registration lapsed. */
  async peerExpired(peer: string): Promise<void> {
    await this.options.calls.forEachOpenCall(peer, async (call) => {
      if (call.ended || !isRegistering(call.upstream)) return;
      this.transition(call, 'expired');
      await this.saveRegistration(call);
      this.options.transport.markDirty(peer, call.callId);
    });
  }

  stop(): void {
    this.registrationWaiters.forEach((waiters) => [...waiters].forEach((wake) => wake(false)));
    this.registrationWaiters.clear();
    this.pendingRetries.forEach((retry) => retry.cancel?.());
    this.pendingRetries.clear();
  }

  private get site(): string {
    return this.options.site;
  }

  /** Registered, or dropped by the owner while a local client still wants the call. */
  private wantsRegistration(call: TrackedCall): boolean {
    return isRegistering(call.upstream) || (call.upstream?.status === 'expired' && call.clients.size > 0);
  }

  private wakeWaiters(callId: string, registered: boolean): void {
    const waiters = this.registrationWaiters.get(callId) ?? [];
    this.registrationWaiters.delete(callId);
    [...waiters].forEach((wake) => wake(registered));
  }

  /**
   * The owner refused the registration as for a call it does not know: not yet, maybe (its collector has not
   * seen the call). Still wanted, it stays `pending` and is asked for again after a backoff.
   */
  private async ownerLacksCall(callId: string): Promise<void> {
    const call = await this.options.calls.find(callId);
    if (call && !call.ended && (call.upstream?.status === 'requested' || call.upstream?.status === 'pending')) {
      this.transition(call, 'pending');
      this.options.logger.info('owner does not know the call yet; registration pending', { callId, owner: call.owner });
      this.retryRegistrationLater(callId);
    }
    this.wakeWaiters(callId, false);
  }

  private retryRegistrationLater(callId: string): void {
    const retry = this.pendingRetries.get(callId) ?? { attempts: 0 };
    retry.cancel?.();
    const delayMs = backoffDelayMs(retry.attempts, this.options.backoff, this.options.random);
    retry.attempts += 1;
    retry.cancel = this.options.clock.schedule(() => {
      retry.cancel = undefined;
      this.options.transport.background(
        () => this.retryRegistration(callId),
        (error) => this.options.logger.error('could not ask for a pending registration again', { callId, error: errorMessage(error) }),
      );
    }, delayMs);
    this.pendingRetries.set(callId, retry);
  }

  /**
   * Asks again for a registration still pending; one no longer wanted (unregistered, expired, ended, gone) is given
   * up. A pending call evicted from memory comes back from the table as `requested`: it is asked for again too.
   */
  private async retryRegistration(callId: string): Promise<void> {
    const call = await this.options.calls.find(callId);
    const status = call?.upstream?.status;
    // Wanted only while local clients hold the call or own writes wait for the owner (the clients may have left
    // while the call was read back from the table).
    const wanted = call !== undefined && (call.clients.size > 0 || this.pendingWrites(call).length > 0);
    if (!call || call.ended || !(status === 'pending' || status === 'requested') || !wanted) {
      this.cancelRetry(callId);
      if (call && !call.ended && !wanted && (status === 'pending' || status === 'requested')) await this.unregister(call);
      return;
    }
    await this.register(call);
  }

  private cancelRetry(callId: string): void {
    this.pendingRetries.get(callId)?.cancel?.();
    this.pendingRetries.delete(callId);
  }

  private async unregister(call: TrackedCall): Promise<void> {
    this.cancelRetry(call.callId);
    this.transition(call, 'unregistered');
    await this.saveRegistration(call);
    await this.options.transport.send({ kind: 'unregister', peer: call.owner, callId: call.callId, body: { callId: call.callId, site: this.site } });
    this.options.transport.markDirty(call.owner, call.callId);
  }

  /** Changes the registration in memory at once, so two changes in a row register once. */
  private transition(call: TrackedCall, status: RegistrationStatus): void {
    call.upstream = { status, receivedTs: call.upstream?.receivedTs ?? 0, ackedTs: call.upstream?.ackedTs ?? 0 };
  }

  /** Stores the registration as it is in memory, in the call's lane; clients hear of an expiry. */
  private saveRegistration(call: TrackedCall): Promise<void> {
    const { calls } = this.options;
    return calls.inLane(call.callId, async () => {
      const held = await calls.loadOrCreate(call.callId);
      held.upstream = call.upstream;
      if (!held.upstream) return;
      await calls.store.putUpstream(call.callId, toStoredUpstream(held.upstream));
      if (held.upstream.status === 'expired') calls.announce({ kind: 'expired', call: held });
    });
  }

  private pendingWrites(call: TrackedCall): CallEntry[] {
    return call.upstream ? call.record.entriesWrittenBy(this.site, call.upstream.ackedTs) : [];
  }

  /** Own writes to a call this site is no longer registered for still go to its owner. */
  private deliverPendingWrites(call: TrackedCall): void {
    if (this.pendingWrites(call).length > 0) this.options.transport.markDirty(call.owner, call.callId);
  }

  private async sendToOwner(call: TrackedCall): Promise<void> {
    const { transport, logger } = this.options;
    for (const chunk of updateChunks(this.pendingWrites(call))) {
      try {
        this.advanceAcked(call, await transport.sendUpdates(call.owner, { callId: call.callId, site: this.site, entries: chunk }));
      } catch (error) {
        if (!(error instanceof PeerRequestError) || error.retryable) throw error;
        if (error.reason === 'timestamp-ahead') {
          logger.warn('owner refused stamps ahead of its clock; restamping', { callId: call.callId, owner: call.owner });
          await this.restampOwnWrites(call.callId);
          await this.register(call);
          return;
        }
        // The writes were refused: nothing to retry.
        logger.warn('owner refused writes', { callId: call.callId, owner: call.owner, error: error.message });
        return;
      }
    }
  }

  /**
   * The owner answered a registration with the final record of an ended call (it ended while this site was cut
   * off). Own writes it lacks are delivered first (the owner amends its record and archive), then the record is
   * asked for again, so the one that replaces what this site holds has them.
   */
  private async takeFinalRecord(message: Extract<OutboxMessage, { kind: 'register' }>, reply: RegisterReply): Promise<void> {
    const call = this.options.calls.cached(message.callId);
    let final = reply;
    if (call && this.ownWritesMissingFrom(call, final.entries)) {
      await this.sendToOwner(call);
      final = await this.options.transport.post(message.peer, PEER_PATHS.register, { callId: message.callId, site: this.site }, registerReplySchema);
    }
    await this.acceptOwnerEnd(message.callId, final.endedTs ?? 0, final.entries);
    await this.options.calls.close(message.callId);
  }

  /** Whether some own write held here is neither in the owner's final record nor beaten by a later write there. */
  private ownWritesMissingFrom(call: TrackedCall, final: readonly CallEntry[]): boolean {
    const properties = new Map(final.flatMap((entry) => (entry.kind === 'property' ? [[entry.name, entry] as const] : [])));
    const logs = new Set(final.flatMap((entry) => (entry.kind === 'log' ? [entry.id] : [])));
    return call.record.entriesWrittenBy(this.site, 0).some((own) => (own.kind === 'log' ? !logs.has(own.id) : supersedes(own, properties.get(own.name))));
  }

  // --- changes of the call held here, each in the call's lane ---

  /** Entries from the owner (a delta or a registration reply). */
  private acceptOwnerEntries(callId: string, entries: readonly CallEntry[]): Promise<void> {
    const { calls, cursorWrites } = this.options;
    return calls.inLane(callId, async () => {
      const call = await calls.load(callId);
      const upstream = call?.upstream;
      if (!call || !upstream || !isRegistering(upstream)) throw notRegistered(callId);
      await calls.storeAndApply(call, entriesToStore(call.record, entries), { skipBudget: true });
      const receivedTs = Math.max(0, ...entries.map((entry) => entry.recordedTs ?? 0));
      if (receivedTs > upstream.receivedTs) {
        call.upstream = { ...upstream, receivedTs };
        cursorWrites.advanceUpstream(callId, 'receivedTs', receivedTs);
      }
    });
  }

  /** The owner acknowledged this site's writes up to `ackedTs`. */
  private advanceAcked(call: TrackedCall, ackedTs: HlcTimestamp): void {
    const upstream = call.upstream;
    if (!upstream || upstream.ackedTs >= ackedTs) return;
    call.upstream = { ...upstream, ackedTs };
    this.options.cursorWrites.advanceUpstream(call.callId, 'ackedTs', ackedTs);
  }

  /**
   * The owner is ending the call. Local writes are refused from here on; returns this site's writes the owner
   * has not acknowledged, which it takes before sealing the record. Repeating it is harmless.
   */
  private beginOwnerEnd(callId: string, endedTs: HlcTimestamp): Promise<CallEntry[]> {
    const { calls } = this.options;
    return calls.inLane(callId, async () => {
      const call = await calls.load(callId);
      if (!call) return [];
      if (!call.ended) await calls.markEnded(call, endedTs);
      return call.record.entriesWrittenBy(this.site, call.upstream?.ackedTs ?? 0);
    });
  }

  /** The owner has sent everything of the sealed record; local clients hear of the end. */
  private finishOwnerEnd(callId: string, endedTs: HlcTimestamp): Promise<void> {
    const { calls } = this.options;
    return calls.inLane(callId, async () => {
      const call = await calls.load(callId);
      if (!call) return;
      if (!call.ended) await calls.markEnded(call, endedTs);
      calls.announce({ kind: 'ended', call });
    });
  }

  /** The owner's final record replaces what is held here. */
  private acceptOwnerEnd(callId: string, endedTs: HlcTimestamp, entries: readonly CallEntry[]): Promise<void> {
    const { calls } = this.options;
    return calls.inLane(callId, async () => {
      const call = await calls.load(callId);
      if (!call || call.ended) return;
      await calls.store.replaceEntries(callId, entries, call.record.entries());
      call.record.replaceAll(entries);
      await calls.markEnded(call, endedTs);
      calls.announce({ kind: 'ended', call });
    });
  }

  /**
   * The owner refused this site's stamps as too far ahead (the offset to it was unknown or wrong). Own
   * unacknowledged writes get new stamps on the corrected clock; everything else is fetched again, since
   * entries of others may have lost to the bad stamps here.
   */
  private restampOwnWrites(callId: string): Promise<void> {
    const { calls, cursorWrites, timestamps } = this.options;
    return calls.inLane(callId, async () => {
      const call = await calls.load(callId);
      const upstream = call?.upstream;
      if (!call || !upstream || call.ended) return;
      const pending = call.record.entriesWrittenBy(this.site, upstream.ackedTs);
      const pendingSet = new Set<CallEntry>(pending);
      let floor = upstream.ackedTs;
      const restamped = pending.map((entry): CallEntry => {
        const ts = Math.max(timestamps.ownerNow(call.owner), floor + 1);
        floor = ts;
        return entry.kind === 'log' ? { ...entry, ts, id: logIdOf(ts, this.site) } : { ...entry, ts };
      });
      const final = [...call.record.entries().filter((entry) => !pendingSet.has(entry)), ...restamped];
      await calls.store.replaceEntries(callId, final, call.record.entries());
      call.record.replaceAll(final);
      cursorWrites.discardUpstream(callId, 'receivedTs');
      call.upstream = { ...upstream, receivedTs: 0 };
      await calls.store.putUpstream(callId, toStoredUpstream(call.upstream));
      calls.announce({ kind: 'entries', call, entries: restamped });
    });
  }
}

import type { BackoffPolicy } from '../esl/backoff';
import { errorMessage, type Logger } from '../call-control/logger';
import type { CallEntry } from './call-entries';
import type { CdsClock } from './cds-clock';
import { CdsRequestError } from './cds-errors';
import type { OutboxMessage, OutboxStore } from './cds-store';
import type { HlcTimestamp } from './hlc';
import type { HybridClock } from './hybrid-clock';
import { ownerOf } from './identifiers';
import type { CallChange, LocalCallStore } from './local-call-store';
import { PeerDelivery } from './peer-delivery';
import { PeerRequestError, type PeerClient } from './peer-client';
import {
  MAX_ENTRIES_PER_MESSAGE,
  PEER_PATHS,
  endReplySchema,
  registerReplySchema,
  timeReplySchema,
  updatesReplySchema,
  type EndReply,
  type EndRequest,
  type RegisterReply,
  type RegisterRequest,
  type UpdatesRequest,
} from './peer-messages';
import type { TrackedCall } from './tracked-call';
import { InFlight } from './in-flight';

export interface NetworkProxyOptions {
  readonly site: string;
  /** The other sites. */
  readonly peers: readonly string[];
  readonly calls: LocalCallStore;
  readonly outbox: OutboxStore;
  readonly client: PeerClient;
  readonly hlc: HybridClock;
  readonly clock: CdsClock;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  readonly logger: Logger;
}

/** Bound on the bytes of entries in one updates message (the peer body limit is larger). */
const MAX_MESSAGE_ENTRY_BYTES = 1024 * 1024;

/**
 * The network proxy: a local client interested in every call. For calls this site owns it keeps the remote
 * participant list and sends each participant what it lacks; for foreign calls it registers this site with
 * the owner, sends it this site's writes, and takes in the owner's updates. Control messages go through the
 * durable outbox; updates are derived from durable cursors, so nothing is lost across a crash.
 */
export class NetworkProxy {
  private readonly deliveries = new Map<string, PeerDelivery>();
  private readonly registrationWaiters = new Map<string, Array<() => void>>();
  /** Foreign calls whose latest registration the owner has answered. */
  private readonly confirmed = new Set<string>();
  private readonly work = new InFlight();
  /** Foreign calls this site has asked (or is asking) to be registered for: set before the first await, so two changes in a row register once. */
  private readonly registering = new Set<string>();
  private readonly endListeners = new Set<(callId: string, site: string) => void>();
  private stopped = false;

  constructor(private readonly options: NetworkProxyOptions) {
    for (const peer of options.peers) {
      this.deliveries.set(
        peer,
        new PeerDelivery({
          clock: options.clock,
          backoff: options.backoff,
          random: options.random,
          concurrency: 16,
          sendControl: (message) => this.sendControl(message),
          sendCall: (callId) => this.sendCall(peer, callId),
          onRetry: (error, delayMs) => options.logger.debug('peer delivery will retry', { peer, delayMs, error: errorMessage(error) }),
        }),
      );
    }
    options.calls.onChange((change) => this.onLocalChange(change));
  }

  /** Resumes after a (re)start: pending outbox messages, undelivered data, and re-registration with owners. */
  async resume(openCalls: readonly TrackedCall[]): Promise<void> {
    for (const message of await this.options.outbox.listOutbox()) this.deliveryTo(message.peer)?.enqueue(message);
    for (const call of openCalls) {
      if (call.ended) continue;
      if (call.owner === this.site) {
        call.participants.forEach((_, peer) => this.deliveryTo(peer)?.markDirty(call.callId));
      } else if (call.upstream?.status === 'registered') {
        await this.register(call.callId);
      } else {
        this.deliverPendingWrites(call);
      }
    }
  }

  /** Owner: `site` has taken the end of a call and handed over its writes racing it. */
  onEndAcknowledged(listener: (callId: string, site: string) => void): void {
    this.endListeners.add(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.registrationWaiters.forEach((waiters) => waiters.forEach((wake) => wake()));
    this.registrationWaiters.clear();
    await Promise.all([...this.deliveries.values()].map((delivery) => delivery.stop()));
    await this.work.settled();
  }

  /** Runs work in the background, tracked so that stop() waits for it. */
  background(work: () => Promise<void>, onError: (error: unknown) => void): void {
    if (this.stopped) return;
    void this.work.track(work().catch(onError));
  }

  /** Undelivered control messages and calls, over all peers. */
  get pending(): number {
    return [...this.deliveries.values()].reduce((sum, delivery) => sum + delivery.pending, 0);
  }

  get idle(): boolean {
    return [...this.deliveries.values()].every((delivery) => delivery.idle);
  }

  /** Registers this site with the owner of a foreign call (again), asking for what it lacks. */
  async register(callId: string): Promise<void> {
    this.registering.add(callId);
    this.confirmed.delete(callId);
    const call = await this.options.calls.setUpstream(callId, 'registered');
    const since = call.upstream?.receivedTs ?? 0;
    const body: RegisterRequest = { callId, site: this.site, ...(since > 0 ? { since } : {}) };
    await this.send({ peer: call.owner, callId, topic: 'registration', path: PEER_PATHS.register, body });
    // Own writes made before the registration was recorded are sent now.
    this.deliveryTo(call.owner)?.markDirty(callId);
  }

  /** Resolves true once the owner has answered this site's registration, false after `timeoutMs`. */
  waitUntilRegistered(callId: string, timeoutMs: number): Promise<boolean> {
    if (this.confirmed.has(callId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const cancel = this.options.clock.schedule(() => done(false), timeoutMs);
      const waiters = this.registrationWaiters.get(callId) ?? [];
      const done = (registered: boolean): void => {
        cancel();
        const index = waiters.indexOf(wake);
        if (index >= 0) waiters.splice(index, 1);
        resolve(registered);
      };
      const wake = (): void => done(true);
      waiters.push(wake);
      this.registrationWaiters.set(callId, waiters);
    });
  }

  /** The owner ends a call: tells every participant each step of the end, durably (the outbox survives a crash). */
  async announceEnd(call: TrackedCall, step: EndRequest['step']): Promise<void> {
    const body: EndRequest = { callId: call.callId, site: this.site, endedTs: call.record.endedTs ?? 0, step };
    for (const peer of call.participants.keys()) {
      await this.send({ peer, callId: call.callId, topic: 'end', path: PEER_PATHS.end, body });
    }
  }

  /**
   * A peer is heard from again after an outage; registrations of this site with it are renewed with `since`,
   * and writes to its calls this site is no longer registered for are delivered.
   */
  async peerRecovered(peer: string): Promise<void> {
    this.deliveryTo(peer)?.retryNow();
    for (const call of this.options.calls.cachedCalls()) {
      if (call.owner !== peer || call.ended) continue;
      if (call.upstream?.status === 'registered') await this.register(call.callId);
      else this.deliverPendingWrites(call);
    }
  }

  /** A peer has been silent past the expiry: its registrations here go, and this site's registrations there are lost. */
  async peerExpired(peer: string): Promise<void> {
    for (const call of this.options.calls.cachedCalls()) {
      if (call.ended) continue;
      if (call.owner === this.site && call.participants.has(peer)) await this.options.calls.removeParticipant(call.callId, peer);
      if (call.owner === peer && call.upstream?.status === 'registered') {
        this.registering.delete(call.callId);
        this.confirmed.delete(call.callId);
        await this.options.calls.setUpstream(call.callId, 'expired');
        this.deliveryTo(peer)?.markDirty(call.callId);
      }
    }
  }

  // --- the peer API, after authentication and validation ---

  async handleRegister(request: RegisterRequest): Promise<RegisterReply> {
    this.requireOwner(request.callId);
    const { call, entries, upTo } = await this.options.calls.registerParticipant(request.callId, request.site, request.since);
    // A registrant that says what it holds has its own writes: they are not sent back.
    const delta = request.since === undefined || call.ended ? entries : entries.filter((entry) => entry.site !== request.site);
    this.options.logger.info('participant registered', { callId: request.callId, site: request.site, since: request.since ?? 0, entries: delta.length });
    if (!call.ended) {
      // The reply carries the delta; were it lost, the registrant registers again from its `since`.
      this.options.calls.advanceParticipant(call, request.site, upTo);
      this.deliveryTo(request.site)?.markDirty(call.callId);
    }
    return { time: this.time(), state: call.record.state, ...(call.record.endedTs === undefined ? {} : { endedTs: call.record.endedTs }), entries: delta };
  }

  async handleUnregister(request: { callId: string; site: string }): Promise<{ time: number }> {
    this.requireOwner(request.callId);
    await this.options.calls.removeParticipant(request.callId, request.site);
    return { time: this.time() };
  }

  async handleUpdates(request: UpdatesRequest): Promise<{ time: number; ackedTs: HlcTimestamp }> {
    if (request.entries.some((entry) => entry.site !== request.site && ownerOf(request.callId) !== request.site)) {
      throw new CdsRequestError(400, 'body.entries: a participant may only send its own writes', 'malformed');
    }
    if (ownerOf(request.callId) === this.site) {
      const ackedTs = await this.options.calls.acceptParticipantWrites(request.callId, request.entries);
      return { time: this.time(), ackedTs };
    }
    if (ownerOf(request.callId) !== request.site) throw new CdsRequestError(409, `only the owner of ${request.callId} sends its updates here`, 'not-owner');
    await this.options.calls.acceptOwnerEntries(request.callId, request.entries);
    return { time: this.time(), ackedTs: Math.max(...request.entries.map((entry) => entry.recordedTs ?? 0)) };
  }

  async handleEnd(request: EndRequest): Promise<EndReply> {
    if (ownerOf(request.callId) !== request.site) throw new CdsRequestError(409, `only the owner of ${request.callId} ends it`, 'not-owner');
    if (request.step === 'ending') return { time: this.time(), entries: await this.options.calls.beginOwnerEnd(request.callId, request.endedTs) };
    await this.options.calls.finishOwnerEnd(request.callId, request.endedTs);
    if (this.options.calls.cached(request.callId)) await this.options.calls.close(request.callId);
    return { time: this.time(), entries: [] };
  }

  heartbeatReply(): { time: number } {
    return { time: this.time() };
  }

  private get site(): string {
    return this.options.site;
  }

  private time(): number {
    return this.options.hlc.nowMs();
  }

  private requireOwner(callId: string): void {
    if (ownerOf(callId) !== this.site) throw new CdsRequestError(409, `site ${this.site} does not own call ${callId}`, 'not-owner');
  }

  private deliveryTo(peer: string): PeerDelivery | undefined {
    return this.deliveries.get(peer);
  }

  private async send(message: Omit<OutboxMessage, 'version'>): Promise<void> {
    const delivery = this.deliveryTo(message.peer);
    if (!delivery) {
      this.options.logger.warn('no peer configured for a call; not sending', { peer: message.peer, callId: message.callId, path: message.path });
      return;
    }
    delivery.enqueue(await this.options.outbox.putOutbox(message));
  }

  private onLocalChange(change: CallChange): void {
    this.background(
      () => this.reactTo(change),
      (error) => this.options.logger.error('network proxy could not act on a change', { callId: change.call.callId, change: change.kind, error: errorMessage(error) }),
    );
  }

  private async reactTo(change: CallChange): Promise<void> {
    const { call } = change;
    if (call.owner === this.site) {
      if (change.kind === 'entries') call.participants.forEach((_, peer) => this.deliveryTo(peer)?.markDirty(call.callId));
      return;
    }
    if (call.ended) return;
    const registered = this.registering.has(call.callId);
    if (change.kind === 'entries' && change.entries.some((entry) => entry.site === this.site)) {
      if (!registered) await this.register(call.callId);
      this.deliveryTo(call.owner)?.markDirty(call.callId);
    }
    if (change.kind === 'interest') {
      if (call.clients.size > 0 && !registered) await this.register(call.callId);
      if (call.clients.size === 0 && registered) {
        this.registering.delete(call.callId);
        this.confirmed.delete(call.callId);
        await this.options.calls.setUpstream(call.callId, 'unregistered');
        await this.send({ peer: call.owner, callId: call.callId, topic: 'registration', path: PEER_PATHS.unregister, body: { callId: call.callId, site: this.site } });
        this.deliveryTo(call.owner)?.markDirty(call.callId);
      }
    }
  }

  private async sendControl(message: OutboxMessage): Promise<void> {
    try {
      if (message.path === PEER_PATHS.register) {
        const reply = await this.options.client.post(message.peer, message.path, message.body, registerReplySchema);
        await this.onRegistered(message.callId, reply);
      } else if (message.path === PEER_PATHS.end) {
        await this.sendEnd(message);
      } else {
        await this.options.client.post(message.peer, message.path, message.body, timeReplySchema);
      }
    } catch (error) {
      if (!(error instanceof PeerRequestError) || error.unreachable) throw error;
      this.options.logger.warn('peer refused a control message; dropping it', { peer: message.peer, callId: message.callId, path: message.path, error: error.message });
    }
    await this.options.outbox.deleteOutbox(message);
  }

  /** Owner: before the final step the participant gets the rest of the sealed record, in bounded updates. */
  private async sendEnd(message: OutboxMessage): Promise<void> {
    const body = message.body as EndRequest;
    if (body.step === 'final') {
      const call = await this.options.calls.find(message.callId);
      if (call) await this.sendToParticipant(message.peer, call);
    }
    const reply = await this.options.client.post(message.peer, message.path, body, endReplySchema);
    if (body.step === 'final') return;
    try {
      if (reply.entries.length > 0) await this.options.calls.acceptParticipantWrites(message.callId, reply.entries);
    } catch (error) {
      if (!(error instanceof CdsRequestError)) throw error;
      this.options.logger.warn('writes racing the end came too late for the record', { callId: message.callId, peer: message.peer, entries: reply.entries.length, error: error.message });
    }
    this.endListeners.forEach((listener) => listener(message.callId, message.peer));
  }

  private async onRegistered(callId: string, reply: RegisterReply): Promise<void> {
    try {
      if (reply.state === 'ended') {
        await this.options.calls.acceptOwnerEnd(callId, reply.endedTs ?? 0, reply.entries);
        await this.options.calls.close(callId);
      } else {
        await this.options.calls.acceptOwnerEntries(callId, reply.entries);
      }
    } catch (error) {
      // Unregistered again while the registration was on its way: the unregistration follows it.
      if (!(error instanceof CdsRequestError && error.reason === 'not-registered')) throw error;
    }
    if (this.registering.has(callId)) this.confirmed.add(callId);
    const waiters = this.registrationWaiters.get(callId) ?? [];
    this.registrationWaiters.delete(callId);
    waiters.forEach((wake) => wake());
  }

  private async sendCall(peer: string, callId: string): Promise<void> {
    const call = await this.options.calls.find(callId);
    if (!call) return;
    if (call.owner === this.site) {
      // Writes racing the end reach the other participants while the call is finishing.
      if (!call.ended || call.finishing) await this.sendToParticipant(peer, call);
      return;
    }
    if (call.owner !== peer || call.ended) return;
    await this.sendToOwner(call);
    // No longer registered and everything delivered: nothing left to do here for this call.
    const upstream = call.upstream;
    if (upstream && upstream.status !== 'registered' && call.record.entriesWrittenBy(this.site, upstream.ackedTs).length === 0) {
      await this.options.calls.close(callId);
    }
  }

  private async sendToParticipant(peer: string, call: TrackedCall): Promise<void> {
    const cursor = call.participants.get(peer);
    if (!cursor) return;
    const upTo = call.record.maxRecordedTs;
    const delta = call.record.entriesRecordedAfter(cursor.ackedTs, peer);
    for (const chunk of chunks(delta)) {
      try {
        await this.options.client.post(peer, PEER_PATHS.updates, { callId: call.callId, site: this.site, entries: chunk }, updatesReplySchema);
      } catch (error) {
        if (error instanceof PeerRequestError && error.reason === 'not-registered') {
          await this.options.calls.removeParticipant(call.callId, peer);
          return;
        }
        throw error;
      }
      this.options.calls.advanceParticipant(call, peer, Math.max(...chunk.map((entry) => entry.recordedTs ?? 0)));
    }
    // Entries the participant wrote itself are not sent back, but the cursor passes them.
    this.options.calls.advanceParticipant(call, peer, upTo);
  }

  private async sendToOwner(call: TrackedCall): Promise<void> {
    const upstream = call.upstream;
    if (!upstream) return;
    const pending = call.record.entriesWrittenBy(this.site, upstream.ackedTs);
    for (const chunk of chunks(pending)) {
      try {
        const reply = await this.options.client.post(call.owner, PEER_PATHS.updates, { callId: call.callId, site: this.site, entries: chunk }, updatesReplySchema);
        this.options.calls.advanceUpstreamAcked(call, reply.ackedTs);
      } catch (error) {
        if (!(error instanceof PeerRequestError) || error.unreachable) throw error;
        if (error.reason === 'timestamp-ahead') {
          this.options.logger.warn('owner refused stamps ahead of its clock; restamping', { callId: call.callId, owner: call.owner });
          await this.options.calls.restampOwnWrites(call.callId);
          await this.register(call.callId);
          this.deliveryTo(call.owner)?.markDirty(call.callId);
          return;
        }
        // The call has ended (its final record follows) or the writes were refused: nothing to retry.
        this.options.logger.warn('owner refused writes', { callId: call.callId, owner: call.owner, error: error.message });
        return;
      }
    }
  }

  /** Participant: own writes to a call this site is no longer registered for still go to its owner. */
  private deliverPendingWrites(call: TrackedCall): void {
    const upstream = call.upstream;
    if (upstream && call.record.entriesWrittenBy(this.site, upstream.ackedTs).length > 0) this.deliveryTo(call.owner)?.markDirty(call.callId);
  }

}

/** Splits a delta into messages bounded in entries and bytes, keeping its order. */
function chunks(entries: readonly CallEntry[]): CallEntry[][] {
  const result: CallEntry[][] = [];
  let current: CallEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(JSON.stringify(entry));
    if (current.length > 0 && (current.length === MAX_ENTRIES_PER_MESSAGE || bytes + size > MAX_MESSAGE_ENTRY_BYTES)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

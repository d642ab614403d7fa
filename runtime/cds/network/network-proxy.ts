import type { z } from 'zod';
import type { BackoffPolicy } from '../../esl/backoff';
import { errorMessage, type Logger } from '../../shared/logger';
import type { CallTimestamps } from '../clock/call-timestamps';
import type { CdsClock } from '../clock/cds-clock';
import { CdsRequestError } from '../call/cds-errors';
import type { OutboxStore } from '../store/cds-store';
import type { HlcTimestamp } from '../clock/hlc';
import { ownerOf } from '../call/identifiers';
import { InFlight } from '../in-flight';
import type { CallChange, LocalCallStore } from '../store/local-call-store';
import type { NewOutboxMessage, OutboxMessage } from './outbox-messages';
import type { OwnerReplication } from '../replication/owner-replication';
import type { ParticipantReplication } from '../replication/participant-replication';
import { PeerDelivery } from './peer-delivery';
import { PeerRequestError, type PeerClient } from './peer-client';
import {
  MAX_DELTAS_PER_BATCH,
  PEER_PATHS,
  timeReplySchema,
  type DeltaResult,
  type EndReply,
  type EndRequest,
  type RegisterReply,
  type RegisterRequest,
  type UpdatesBatchReply,
  type UpdatesBatchRequest,
  type UpdatesRequest,
} from './peer-messages';
import { UpdateBatcher } from './update-batcher';
import type { ReplicationTransport } from '../replication/replication-transport';
import type { TrackedCall } from '../store/tracked-call';

export interface NetworkProxyOptions {
  readonly site: string;
  /** The other sites. */
  readonly peers: readonly string[];
  readonly outbox: OutboxStore;
  readonly client: PeerClient;
  readonly timestamps: CallTimestamps;
  readonly clock: CdsClock;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  readonly logger: Logger;
}

/** The parts the proxy routes to, connected once all are built. */
export interface NetworkProxySides {
  readonly calls: LocalCallStore;
  readonly owner: OwnerReplication;
  readonly participant: ParticipantReplication;
}

/**
 * The network proxy: a local client interested in every call, and this site's link to the others. It delivers
 * to each peer (control messages from the durable outbox, and the calls with something undelivered, derived
 * from durable cursors, so nothing is lost across a crash), and routes local changes and peer requests to owner
 * replication (calls this site owns) or participant replication (foreign calls).
 */
export class NetworkProxy implements ReplicationTransport {
  private readonly deliveries = new Map<string, PeerDelivery>();
  private readonly batchers = new Map<string, UpdateBatcher>();
  private readonly work = new InFlight();
  private sides?: NetworkProxySides;
  private stopped = false;

  constructor(private readonly options: NetworkProxyOptions) {
    for (const peer of options.peers) {
      this.deliveries.set(
        peer,
        new PeerDelivery({
          clock: options.clock,
          backoff: options.backoff,
          random: options.random,
          // Enough calls on their way for one batch on the wire while the next one fills.
          concurrency: 2 * MAX_DELTAS_PER_BATCH,
          sendControl: (message) => this.sendControl(message),
          sendCall: (callId) => this.sendCall(peer, callId),
          onRetry: (error, delayMs) => options.logger.debug('peer delivery will retry', { peer, delayMs, error: errorMessage(error) }),
          onRefused: (error) => options.logger.warn('peer refused a message for good; given up', { peer, error: error.message }),
        }),
      );
      this.batchers.set(
        peer,
        new UpdateBatcher({
          site: options.site,
          peer,
          clock: options.clock,
          post: (path, body, replySchema) => this.post(peer, path, body, replySchema),
          onOlderPeer: () => options.logger.warn('peer does not take updates batches (an older version); sending it single updates', { peer }),
        }),
      );
    }
  }

  /** Wires the proxy to the store and the two replication sides; it hears of every local change from then on. */
  connect(sides: NetworkProxySides): void {
    this.sides = sides;
    sides.calls.onChange((change) => this.onLocalChange(change));
  }

  /** Resumes after a (re)start: pending outbox messages, undelivered data, and re-registration with owners. */
  async resume(openCalls: readonly TrackedCall[]): Promise<void> {
    const { calls, owner, participant } = this.connected;
    for (const message of await this.options.outbox.listOutbox()) this.deliveryTo(message.peer)?.enqueue(message);
    for (const call of openCalls) {
      if (calls.isOwnerOf(call.callId)) owner.resume(call);
      else await participant.resume(call);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sides?.participant.stop();
    this.batchers.forEach((batcher) => batcher.stop());
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

  /** Control messages and calls not acknowledged yet by their peer, sends under way included, over all peers. */
  get unacknowledged(): number {
    return [...this.deliveries.values()].reduce((sum, delivery) => sum + delivery.unacknowledged, 0);
  }

  get idle(): boolean {
    return [...this.deliveries.values()].every((delivery) => delivery.idle);
  }

  // --- the transport of the replication sides ---

  async send(message: NewOutboxMessage): Promise<void> {
    const delivery = this.deliveryTo(message.peer);
    if (!delivery) {
      this.options.logger.warn('no peer configured for a call; not sending', { peer: message.peer, callId: message.callId, kind: message.kind });
      return;
    }
    delivery.enqueue(await this.options.outbox.putOutbox(message));
  }

  markDirty(peer: string, callId: string): void {
    this.deliveryTo(peer)?.markDirty(callId);
  }

  post<T>(peer: string, path: string, body: unknown, replySchema: z.ZodType<T>): Promise<T> {
    return this.options.client.post(peer, path, body, replySchema);
  }

  async sendUpdates(peer: string, request: UpdatesRequest): Promise<HlcTimestamp> {
    const batcher = this.batchers.get(peer);
    if (!batcher) throw new PeerRequestError(`no peer ${peer} configured`);
    return batcher.send({ callId: request.callId, entries: request.entries });
  }

  // --- the network health monitor's news ---

  /** A peer is heard from again after an outage: deliveries to it resume at once, registrations with it are renewed. */
  async peerRecovered(peer: string): Promise<void> {
    this.deliveryTo(peer)?.retryNow();
    await this.connected.participant.peerRecovered(peer);
  }

  /** A peer has been silent past the expiry: its registrations here go, and this site's registrations there are lost. */
  async peerExpired(peer: string): Promise<void> {
    await this.connected.owner.peerExpired(peer);
    await this.connected.participant.peerExpired(peer);
  }

  // --- the peer API, after authentication and validation ---

  handleRegister(request: RegisterRequest): Promise<RegisterReply> {
    this.requireOwner(request.callId);
    return this.connected.owner.handleRegister(request);
  }

  async handleUnregister(request: { callId: string; site: string }): Promise<{ time: number }> {
    this.requireOwner(request.callId);
    await this.connected.owner.handleUnregister(request);
    return { time: this.time() };
  }

  async handleUpdates(request: UpdatesRequest): Promise<{ time: number; ackedTs: HlcTimestamp }> {
    const owner = ownerOf(request.callId);
    if (request.entries.some((entry) => entry.site !== request.site && owner !== request.site)) {
      throw new CdsRequestError(400, 'body.entries: a participant may only send its own writes', 'malformed');
    }
    if (owner === this.options.site) return { time: this.time(), ackedTs: await this.connected.owner.handleParticipantWrites(request) };
    if (owner !== request.site) throw new CdsRequestError(409, `only the owner of ${request.callId} sends its updates here`, 'not-owner');
    return { time: this.time(), ackedTs: await this.connected.participant.handleOwnerUpdates(request) };
  }

  /**
   * Each delta of a batch as if it were its own updates message, all at once (a call's lane keeps two deltas of one
   * call in their order): one refused does not hold up the others, and each is answered with its own outcome.
   */
  async handleUpdatesBatch(batch: UpdatesBatchRequest): Promise<UpdatesBatchReply> {
    const results = await Promise.all(
      batch.deltas.map((delta) =>
        this.handleUpdates({ callId: delta.callId, site: batch.site, entries: delta.entries }).then(
          (reply): DeltaResult => ({ ackedTs: reply.ackedTs }),
          (error: unknown) => this.deltaRefusal(delta.callId, error),
        ),
      ),
    );
    return { time: this.time(), results };
  }

  async handleEnd(request: EndRequest): Promise<EndReply> {
    if (ownerOf(request.callId) !== request.site) throw new CdsRequestError(409, `only the owner of ${request.callId} ends it`, 'not-owner');
    return { time: this.time(), entries: await this.connected.participant.handleEnd(request) };
  }

  heartbeatReply(): { time: number } {
    return { time: this.time() };
  }

  private get connected(): NetworkProxySides {
    if (!this.sides) throw new Error('network proxy used before connect()');
    return this.sides;
  }

  private time(): number {
    return this.options.timestamps.nowMs();
  }

  /** What the peer API would have answered a single updates message with: its refusal, or 503 when storing failed (logged). */
  private deltaRefusal(callId: string, error: unknown): DeltaResult {
    if (error instanceof CdsRequestError) return { status: error.status, error: error.message, reason: error.reason };
    this.options.logger.error('could not take a delta of an updates batch', { callId, error: errorMessage(error) });
    return { status: 503, error: `unavailable: ${errorMessage(error)}` };
  }

  private requireOwner(callId: string): void {
    if (ownerOf(callId) !== this.options.site) throw new CdsRequestError(409, `site ${this.options.site} does not own call ${callId}`, 'not-owner');
  }

  private deliveryTo(peer: string): PeerDelivery | undefined {
    return this.deliveries.get(peer);
  }

  private onLocalChange(change: CallChange): void {
    const { calls, owner, participant } = this.connected;
    this.background(
      async () => (calls.isOwnerOf(change.call.callId) ? owner.onLocalChange(change) : participant.onLocalChange(change)),
      (error) => this.options.logger.error('network proxy could not act on a change', { callId: change.call.callId, change: change.kind, error: errorMessage(error) }),
    );
  }

  private async sendControl(message: OutboxMessage): Promise<void> {
    try {
      switch (message.kind) {
        case 'register':
          await this.connected.participant.sendRegistration(message);
          break;
        case 'unregister':
          await this.post(message.peer, PEER_PATHS.unregister, message.body, timeReplySchema);
          break;
        case 'end':
          await this.connected.owner.sendEnd(message);
          break;
      }
    } catch (error) {
      if (!(error instanceof PeerRequestError) || error.retryable) throw error;
      this.options.logger.warn('peer refused a control message; dropping it', { peer: message.peer, callId: message.callId, kind: message.kind, error: error.message });
    }
    await this.options.outbox.deleteOutbox(message);
  }

  private async sendCall(peer: string, callId: string): Promise<void> {
    const { calls, owner, participant } = this.connected;
    const call = await calls.find(callId);
    if (!call) return;
    if (calls.isOwnerOf(callId)) await owner.sendCall(peer, call);
    else await participant.sendCall(peer, call);
  }
}

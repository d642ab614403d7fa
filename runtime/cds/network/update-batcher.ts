import type { z } from 'zod';
import type { CdsClock } from '../clock/cds-clock';
import type { HlcTimestamp } from '../clock/hlc';
import { PeerRequestError } from './peer-client';
import {
  MAX_DELTAS_PER_BATCH,
  MAX_ENTRIES_PER_MESSAGE,
  MAX_MESSAGE_ENTRY_BYTES,
  PEER_PATHS,
  updatesBatchReplySchema,
  updatesReplySchema,
  type DeltaResult,
  type UpdateDelta,
} from './peer-messages';

export interface UpdateBatcherOptions {
  /** This site: the sender of every delta. */
  readonly site: string;
  /** The peer every batch goes to. */
  readonly peer: string;
  /** Schedules the flush of a batch (the node's injected timers). */
  readonly clock: CdsClock;
  /** One signed request to the peer. */
  readonly post: <T>(path: string, body: unknown, replySchema: z.ZodType<T>) => Promise<T>;
  /** How long the first delta of a batch waits for others to join it. @default BATCH_DELAY_MS */
  readonly maxDelayMs?: number;
  /** Deltas in one batch. @default MAX_DELTAS_PER_BATCH */
  readonly maxDeltas?: number;
  /** Bytes of deltas (their JSON) in one batch; a lone delta larger than this still goes, alone. @default MAX_MESSAGE_ENTRY_BYTES */
  readonly maxBytes?: number;
  /** The peer answered the batch path 404: it predates batches and is sent single updates messages for a while. */
  readonly onOlderPeer?: () => void;
}

/**
 * The wait of a batch's first delta: small beside the propagation a participant expects (tens of milliseconds), long
 * enough that at a steady 1,000 updates a second a message carries about five deltas, not one or two (at 2 ms its
 * headers and signature were most of the bytes an update cost).
 */
export const BATCH_DELAY_MS = 5;

/**
 * One batch on the wire while the next one fills: under load a batch then carries what arrived during a round trip
 * (fewer, fuller signed messages: less CPU and fewer bytes per update), and when idle a delta waits only the delay.
 */
export const MAX_BATCHES_IN_FLIGHT = 2;

/** How long a peer that predates batches is sent single updates messages before a batch is tried again (it may have been upgraded). */
const OLDER_PEER_RECHECK_MS = 60_000;

interface WaitingDelta {
  readonly delta: UpdateDelta;
  readonly bytes: number;
  readonly acknowledged: (ackedTs: HlcTimestamp) => void;
  readonly refused: (error: unknown) => void;
}

/**
 * The updates to one peer, batched: the deltas of many calls go in one signed message, sent `maxDelayMs` after
 * the first of them or as soon as the batch is full (deltas, entries or bytes); a batch not full that is due while
 * MAX_BATCHES_IN_FLIGHT batches are on their way goes as soon as one of them is answered. Each delta's promise settles on
 * its own result: acknowledged once the peer has stored it, or refused as its own updates message would have been
 * (`PeerRequestError` with the peer's status and reason); a batch the peer did not take (unreachable, stale,
 * malformed) fails every delta in it with that error, so deliveries retry or give up exactly as before.
 */
export class UpdateBatcher {
  private waiting: WaitingDelta[] = [];
  private waitingBytes = 0;
  private waitingEntries = 0;
  private cancelFlush?: () => void;
  /** The delay of the waiting deltas has passed; they go when a batch on its way is answered. */
  private flushDue = false;
  private inFlight = 0;
  private olderPeerUntilMs = -Infinity;
  private stopped = false;

  constructor(private readonly options: UpdateBatcherOptions) {}

  /** Resolves with the highest stamp the peer acknowledged for this delta; rejects as its own updates message would. */
  send(delta: UpdateDelta): Promise<HlcTimestamp> {
    if (this.options.clock.monotonicMs() < this.olderPeerUntilMs) return this.sendAlone(delta);
    return new Promise((acknowledged, refused) => {
      const waiting = { delta, bytes: Buffer.byteLength(JSON.stringify(delta)), acknowledged, refused };
      if (this.waiting.length > 0 && !this.fits(waiting)) this.flush();
      this.waiting.push(waiting);
      this.waitingBytes += waiting.bytes;
      this.waitingEntries += delta.entries.length;
      if (this.stopped || this.waiting.length >= (this.options.maxDeltas ?? MAX_DELTAS_PER_BATCH) || this.waitingEntries >= MAX_ENTRIES_PER_MESSAGE) this.flush();
      else if (!this.flushDue) this.cancelFlush ??= this.options.clock.schedule(() => this.flushWhenFree(), this.options.maxDelayMs ?? BATCH_DELAY_MS);
    });
  }

  /** Deltas waiting for their batch to be sent. */
  get waitingDeltas(): number {
    return this.waiting.length;
  }

  /** Sends what waits now; later deltas go at once, unbatched by time, so a stopping node's deliveries settle. */
  stop(): void {
    this.stopped = true;
    this.flush();
  }

  private fits(next: WaitingDelta): boolean {
    return this.waitingBytes + next.bytes <= (this.options.maxBytes ?? MAX_MESSAGE_ENTRY_BYTES) && this.waitingEntries + next.delta.entries.length <= MAX_ENTRIES_PER_MESSAGE;
  }

  private flushWhenFree(): void {
    this.cancelFlush = undefined;
    if (this.inFlight >= MAX_BATCHES_IN_FLIGHT && !this.stopped) this.flushDue = true;
    else this.flush();
  }

  private flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    this.flushDue = false;
    const batch = this.waiting;
    this.waiting = [];
    this.waitingBytes = 0;
    this.waitingEntries = 0;
    if (batch.length === 0) return;
    this.inFlight += 1;
    void this.deliver(batch).finally(() => {
      this.inFlight -= 1;
      if (this.flushDue) this.flush();
    });
  }

  private async deliver(batch: readonly WaitingDelta[]): Promise<void> {
    const { site, peer, post } = this.options;
    let results: DeltaResult[];
    try {
      ({ results } = await post(PEER_PATHS.updatesBatch, { site, deltas: batch.map((waiting) => waiting.delta) }, updatesBatchReplySchema));
    } catch (error) {
      if (error instanceof PeerRequestError && error.status === 404 && error.reason === 'not-found') return this.sendAloneToOlderPeer(batch);
      batch.forEach((waiting) => waiting.refused(error));
      return;
    }
    if (results.length !== batch.length) {
      const error = new PeerRequestError(`${peer} answered ${PEER_PATHS.updatesBatch} with ${results.length} results for ${batch.length} deltas`);
      batch.forEach((waiting) => waiting.refused(error));
      return;
    }
    batch.forEach((waiting, index) => {
      const result = results[index];
      if ('ackedTs' in result) waiting.acknowledged(result.ackedTs);
      else waiting.refused(new PeerRequestError(`${peer} refused the updates of ${waiting.delta.callId} with ${result.status}: ${result.error}`, result.status, result.reason));
    });
  }

  private sendAloneToOlderPeer(batch: readonly WaitingDelta[]): void {
    this.olderPeerUntilMs = this.options.clock.monotonicMs() + OLDER_PEER_RECHECK_MS;
    this.options.onOlderPeer?.();
    for (const waiting of batch) this.sendAlone(waiting.delta).then(waiting.acknowledged, waiting.refused);
  }

  private async sendAlone(delta: UpdateDelta): Promise<HlcTimestamp> {
    const reply = await this.options.post(PEER_PATHS.updates, { callId: delta.callId, site: this.options.site, entries: delta.entries }, updatesReplySchema);
    return reply.ackedTs;
  }
}

import { backoffDelayMs, type BackoffPolicy } from '../../esl/backoff';
import type { CdsClock } from '../clock/cds-clock';
import { outboxTopic, type OutboxMessage } from './outbox-messages';
import { InFlight } from '../in-flight';
import { PeerRequestError } from './peer-client';

export interface PeerDeliveryOptions {
  readonly clock: CdsClock;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  /** Calls whose deltas are on their way at once. */
  readonly concurrency: number;
  /** Sends a control message; throws only when it should be retried (the peer did not take it). */
  readonly sendControl: (message: OutboxMessage) => Promise<void>;
  /** Sends what this peer lacks of a call; throws only when it should be retried. */
  readonly sendCall: (callId: string) => Promise<void>;
  readonly onRetry: (error: unknown, delayMs: number) => void;
  /** The peer refused a call's message for good (see `PeerRequestError.refusedAsFinal`): it is given up, not retried (see `PeerDelivery`). */
  readonly onRefused: (error: PeerRequestError) => void;
}

/**
 * Delivery to one peer: control messages from the outbox (registrations, ends) one at a time in order, and
 * alongside them up to `concurrency` calls with something undelivered, each call sent by one worker at a
 * time. A failure pauses new sends to the peer with exponential backoff; a peer heard from again is retried
 * at once. A call whose message the peer refuses for good (malformed, not a participant, unknown call) is given
 * up and reported, not retried: resending
 * it unchanged would fail forever and, with the backoff, hold up everything else for the peer; it is sent again
 * (with what the peer then lacks) only when it changes. (`sendControl` drops a refused control message itself.)
 */
export class PeerDelivery {
  private readonly control = new Map<string, OutboxMessage>();
  private readonly dirty = new Set<string>();
  private readonly sending = new Set<string>();
  private readonly work = new InFlight();
  private controlBusy = false;
  private failures = 0;
  private cancelRetry?: () => void;
  private stopped = false;

  constructor(private readonly options: PeerDeliveryOptions) {}

  get pending(): number {
    return this.control.size + this.dirty.size;
  }

  /** Control messages and calls the peer has not acknowledged yet: queued, waiting for a retry, or on their way. */
  get unacknowledged(): number {
    return this.pending + [...this.sending].filter((callId) => !this.dirty.has(callId)).length;
  }

  get idle(): boolean {
    return this.pending === 0 && this.sending.size === 0 && !this.controlBusy;
  }

  enqueue(message: OutboxMessage): void {
    this.control.set(`${message.callId}#${outboxTopic(message.kind)}`, message);
    this.pump();
  }

  markDirty(callId: string): void {
    this.dirty.add(callId);
    this.pump();
  }

  /** The peer is back: retry now rather than when the backoff ends. */
  retryNow(): void {
    this.failures = 0;
    if (!this.cancelRetry) return;
    this.cancelRetry();
    this.cancelRetry = undefined;
    this.pump();
  }

  /** Stops delivering; resolves when the sends under way have settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    await this.work.settled();
  }

  private pump(): void {
    if (this.stopped || this.cancelRetry) return;
    const next = this.control.entries().next();
    if (!this.controlBusy && !next.done) {
      const [key, message] = next.value;
      this.controlBusy = true;
      void this.work.track(
        this.options.sendControl(message).then(
          () => {
            if (this.control.get(key) === message) this.control.delete(key);
            this.controlBusy = false;
            this.succeeded();
          },
          (error: unknown) => {
            this.controlBusy = false;
            this.failed(error);
          },
        ),
      );
    }
    for (const callId of this.dirty) {
      if (this.sending.size >= this.options.concurrency || this.cancelRetry) break;
      if (this.sending.has(callId)) continue;
      this.dirty.delete(callId);
      this.sending.add(callId);
      void this.work.track(
        this.options.sendCall(callId).then(
          () => {
            this.sending.delete(callId);
            this.succeeded();
          },
          (error: unknown) => {
            this.sending.delete(callId);
            if (isRefusal(error)) return this.refused(error);
            this.dirty.add(callId);
            this.failed(error);
          },
        ),
      );
    }
  }

  private succeeded(): void {
    this.failures = 0;
    this.pump();
  }

  private refused(error: PeerRequestError): void {
    this.options.onRefused(error);
    this.succeeded();
  }

  private failed(error: unknown): void {
    if (this.stopped || this.cancelRetry) return;
    const delayMs = backoffDelayMs(this.failures, this.options.backoff, this.options.random);
    this.failures += 1;
    this.options.onRetry(error, delayMs);
    this.cancelRetry = this.options.clock.schedule(() => {
      this.cancelRetry = undefined;
      this.pump();
    }, delayMs);
  }
}

function isRefusal(error: unknown): error is PeerRequestError {
  return error instanceof PeerRequestError && error.refusedAsFinal && !error.retryable;
}

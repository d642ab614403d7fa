import { backoffDelayMs, type BackoffPolicy } from '../esl/backoff';
import type { CdsClock } from './cds-clock';
import type { OutboxMessage } from './cds-store';

export interface PeerDeliveryOptions {
  readonly clock: CdsClock;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  /** Calls whose deltas are sent at once. */
  readonly concurrency: number;
  /** Sends a control message; throws only when it should be retried (the peer did not take it). */
  readonly sendControl: (message: OutboxMessage) => Promise<void>;
  /** Sends what this peer lacks of a call; throws only when it should be retried. */
  readonly sendCall: (callId: string) => Promise<void>;
  readonly onRetry: (error: unknown, delayMs: number) => void;
}

/**
 * Delivery to one peer: control messages from the outbox (registrations, ends) first, in order, then the
 * calls with something undelivered. A failure pauses the peer with exponential backoff; a peer heard from
 * again is retried at once.
 */
export class PeerDelivery {
  private readonly control = new Map<string, OutboxMessage>();
  private readonly dirty = new Set<string>();
  private running?: Promise<void>;
  private failures = 0;
  private cancelRetry?: () => void;
  private stopped = false;

  constructor(private readonly options: PeerDeliveryOptions) {}

  get pending(): number {
    return this.control.size + this.dirty.size;
  }

  get idle(): boolean {
    return this.running === undefined && this.pending === 0;
  }

  enqueue(message: OutboxMessage): void {
    this.control.set(`${message.callId}#${message.topic}`, message);
    this.kick();
  }

  markDirty(callId: string): void {
    this.dirty.add(callId);
    this.kick();
  }

  /** The peer is back: retry now rather than when the backoff ends. */
  retryNow(): void {
    this.failures = 0;
    if (!this.cancelRetry) return;
    this.cancelRetry();
    this.cancelRetry = undefined;
    this.kick();
  }

  /** Stops delivering; resolves when the attempt under way has settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    await this.running;
  }

  private kick(): void {
    if (this.running || this.cancelRetry || this.stopped) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        const [key, message] = this.control.entries().next().value ?? [];
        if (key !== undefined && message !== undefined) {
          await this.options.sendControl(message);
          if (this.control.get(key) === message) this.control.delete(key);
          continue;
        }
        if (this.dirty.size === 0) break;
        const batch = [...this.dirty].slice(0, this.options.concurrency);
        batch.forEach((callId) => this.dirty.delete(callId));
        const results = await Promise.allSettled(batch.map((callId) => this.options.sendCall(callId)));
        const failed = batch.filter((_, index) => results[index].status === 'rejected');
        failed.forEach((callId) => this.dirty.add(callId));
        const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failure) throw failure.reason;
      }
      this.failures = 0;
    } catch (error) {
      this.scheduleRetry(error);
    }
  }

  private scheduleRetry(error: unknown): void {
    if (this.stopped) return;
    const delayMs = backoffDelayMs(this.failures, this.options.backoff, this.options.random);
    this.failures += 1;
    this.options.onRetry(error, delayMs);
    this.cancelRetry = this.options.clock.schedule(() => {
      this.cancelRetry = undefined;
      this.kick();
    }, delayMs);
  }
}

import { EslTimeoutError } from './errors';
import type { Outcome } from './outcome';
import type { Timers } from './timers';

interface Pending<T> {
  readonly command: string;
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Results that arrive as events matched by an id (BACKGROUND_JOB by Job-UUID, CHANNEL_EXECUTE_COMPLETE by
 * Application-UUID) rather than by position; each wait has its own time limit.
 */
export class PendingReplies<T> {
  private readonly pending = new Map<string, Pending<T>>();

  constructor(private readonly timers: Timers) {}

  wait(id: string, command: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.pending.delete(id);
        reject(new EslTimeoutError(command, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { command, resolve, reject, timer });
    });
  }

  /** Settles the wait for `id`, if there is one; returns whether there was. */
  settle(id: string, outcome: Outcome<T>): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.pending.delete(id);
    this.timers.clearTimeout(entry.timer);
    if (outcome.ok) entry.resolve(outcome.value);
    else entry.reject(outcome.error);
    return true;
  }

  commandOf(id: string): string | undefined {
    return this.pending.get(id)?.command;
  }

  failAll(errorFor: (command: string) => Error): void {
    for (const [id, entry] of [...this.pending]) this.settle(id, { ok: false, error: errorFor(entry.command) });
  }
}

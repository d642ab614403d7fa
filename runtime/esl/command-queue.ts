import { EslTimeoutError } from './errors';
import type { Outcome } from './outcome';
import type { Timers } from './timers';

/** Writes one command to the connection and reports its reply through `settle`. */
export type CommandWriter<T> = (settle: (outcome: Outcome<T>) => void) => void;

interface QueuedCommand {
  readonly command: string;
  readonly timeoutMs: number;
  readonly write: CommandWriter<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Runs the commands of one ESL connection strictly one at a time. modesl matches replies to callbacks by
 * position, so a command is written only once the previous one has settled.
 *
 * A command that times out may still be answered later, or never: from then on replies can no longer be
 * matched to commands. The queue therefore closes itself on a timeout and tells its owner (`onTimeout`),
 * which must drop the connection; reconnecting is the only way to re-synchronise.
 */
export class CommandQueue {
  private readonly waiting: QueuedCommand[] = [];
  private running?: { readonly entry: QueuedCommand; readonly timer: NodeJS.Timeout };
  private errorAfterClose?: (command: string) => Error;

  constructor(
    private readonly timers: Timers,
    private readonly onTimeout: (command: string) => void,
  ) {}

  run<T>(command: string, timeoutMs: number, write: CommandWriter<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.errorAfterClose) {
        reject(this.errorAfterClose(command));
        return;
      }
      this.waiting.push({ command, timeoutMs, write, resolve: resolve as (value: unknown) => void, reject });
      this.startNext();
    });
  }

  /** Fails the running and all waiting commands with `errorFor(command)`, and every later one too. */
  close(errorFor: (command: string) => Error): void {
    if (this.errorAfterClose) return;
    this.errorAfterClose = errorFor;
    const failed = this.waiting.splice(0);
    if (this.running) {
      this.timers.clearTimeout(this.running.timer);
      failed.unshift(this.running.entry);
      this.running = undefined;
    }
    for (const entry of failed) entry.reject(errorFor(entry.command));
  }

  private startNext(): void {
    if (this.running || this.errorAfterClose) return;
    const entry = this.waiting.shift();
    if (!entry) return;
    const timer = this.timers.setTimeout(() => this.timeOut(entry), entry.timeoutMs);
    this.running = { entry, timer };
    entry.write((outcome) => this.finish(entry, outcome));
  }

  private finish(entry: QueuedCommand, outcome: Outcome<unknown>): void {
    // A reply for a command that already timed out or was failed by close() is ignored.
    if (this.running?.entry !== entry) return;
    this.timers.clearTimeout(this.running.timer);
    this.running = undefined;
    if (outcome.ok) entry.resolve(outcome.value);
    else entry.reject(outcome.error);
    this.startNext();
  }

  private timeOut(entry: QueuedCommand): void {
    if (this.running?.entry !== entry) return;
    this.running = undefined;
    entry.reject(new EslTimeoutError(entry.command, entry.timeoutMs));
    this.onTimeout(entry.command);
  }
}

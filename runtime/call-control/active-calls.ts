import type { ControlledCall } from './controlled-call';

/** The calls this service holds, with a count of those that have finished and a wait for "none left". */
export class ActiveCalls {
  private readonly calls = new Set<ControlledCall>();
  private finishedCount = 0;
  private emptyWaiters: Array<() => void> = [];

  get size(): number {
    return this.calls.size;
  }

  /** How many calls have finished (ended or been detached) since the service started. */
  get finished(): number {
    return this.finishedCount;
  }

  list(): ControlledCall[] {
    return [...this.calls];
  }

  /** Holds `call` until `done` settles. */
  track(call: ControlledCall, done: Promise<unknown>): void {
    this.calls.add(call);
    const release = (): void => this.release(call);
    void done.then(release, release);
  }

  /** Resolves as soon as no call is held. */
  whenEmpty(): Promise<void> {
    if (this.calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  private release(call: ControlledCall): void {
    this.calls.delete(call);
    this.finishedCount += 1;
    if (this.calls.size > 0) return;
    const waiters = this.emptyWaiters;
    this.emptyWaiters = [];
    waiters.forEach((resolve) => resolve());
  }
}

import type { Clock, Sleep } from '../../../runtime/upgrade/clock';

/**
 * Time that runs faster than the wall clock: `sleep(ms)` advances it by `ms` at once and yields for
 * `ms / speedup` real milliseconds, so a 5-minute drain limit passes in a fraction of a second while
 * the simulator's calls keep real durations.
 */
export class VirtualTime implements Clock {
  private offsetMs = 0;

  constructor(private readonly speedup: number) {}

  now(): number {
    return Date.now() + this.offsetMs;
  }

  readonly sleep: Sleep = (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      this.offsetMs += ms - ms / this.speedup;
      setTimeout(resolve, Math.max(1, ms / this.speedup));
    });
}

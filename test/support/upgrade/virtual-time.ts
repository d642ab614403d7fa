import type { Clock, Sleep } from '../../../runtime/shared/clock';

/**
 * Time that runs `speedup` times faster than the wall clock, so a 5-minute drain limit passes in a
 * fraction of a second while the simulator's calls keep real durations. `sleep(ms)` waits ms / speedup.
 */
export class VirtualTime implements Clock {
  private readonly origin = Date.now();

  constructor(private readonly speedup: number) {}

  now(): number {
    return this.origin + (Date.now() - this.origin) * this.speedup;
  }

  readonly sleep: Sleep = (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      setTimeout(resolve, ms / this.speedup);
    });
}

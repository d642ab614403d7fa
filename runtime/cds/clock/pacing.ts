import type { CdsClock } from './cds-clock';

/**
 * Spreads a component's background writes over time, so that they do not take the node's and its table's CPU in
 * bursts that live writes queue behind. `hurry` (on stop) ends the wait under way and every later one.
 */
export class Pacing {
  private hurried = false;
  private wake?: () => void;

  constructor(private readonly clock: CdsClock) {}

  /** Resolves once the monotonic clock reads `atMs`, or at once when hurried. */
  until(atMs: number): Promise<void> {
    const delayMs = atMs - this.clock.monotonicMs();
    if (delayMs <= 0 || this.hurried) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = this.clock.schedule(() => this.wake?.(), delayMs);
      this.wake = () => {
        this.wake = undefined;
        cancel();
        resolve();
      };
    });
  }

  hurry(): void {
    this.hurried = true;
    this.wake?.();
  }
}

/** When the item at `index` of `count` goes, spread evenly over `spreadMs` from `startedMs`. */
export function spreadAt(startedMs: number, index: number, count: number, spreadMs: number): number {
  return startedMs + (index * spreadMs) / count;
}

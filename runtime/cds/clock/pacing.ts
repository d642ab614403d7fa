import type { CdsClock } from './cds-clock';

/**
 * Spreads a component's background writes over time, so that they do not take the node's and its table's CPU in
 * bursts that live writes queue behind. `hurry` (on stop) ends the waits under way and every later one.
 */
export class Pacing {
  private hurried = false;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly clock: CdsClock) {}

  /** Resolves once the monotonic clock reads `atMs`, or at once when hurried. */
  until(atMs: number): Promise<void> {
    const delayMs = atMs - this.clock.monotonicMs();
    if (delayMs <= 0 || this.hurried) return Promise.resolve();
    return new Promise((resolve) => {
      let cancel = (): void => undefined;
      const wake = (): void => {
        this.waiting.delete(wake);
        cancel();
        resolve();
      };
      cancel = this.clock.schedule(wake, delayMs);
      this.waiting.add(wake);
    });
  }

  hurry(): void {
    this.hurried = true;
    for (const wake of [...this.waiting]) wake();
  }
}

/** When the item at `index` of `count` goes, spread evenly over `spreadMs` from `startedMs`. */
export function spreadAt(startedMs: number, index: number, count: number, spreadMs: number): number {
  return startedMs + (index * spreadMs) / count;
}

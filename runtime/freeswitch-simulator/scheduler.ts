import { Clock } from './clock';

/**
 * Keeps track of every timer the simulator starts so that stopping it cancels them all (jest must be able
 * to exit). `delay` promises settle when cancelled too, so nothing waits forever after a stop.
 */
export class Scheduler {
  private readonly cancels = new Set<() => void>();

  constructor(private readonly clock: Clock) {}

  now(): number {
    return this.clock.now();
  }

  schedule(callback: () => void, delayMs: number, onCancel?: () => void): () => void {
    const cancel = (): void => {
      if (!this.cancels.delete(cancel)) return;
      cancelTimer();
      onCancel?.();
    };
    const cancelTimer = this.clock.schedule(() => {
      this.cancels.delete(cancel);
      callback();
    }, delayMs);
    this.cancels.add(cancel);
    return cancel;
  }

  delay(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.schedule(resolve, delayMs, resolve);
    });
  }

  cancelAll(): void {
    for (const cancel of [...this.cancels]) cancel();
  }
}

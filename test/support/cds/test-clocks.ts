import { systemClock, type CdsClock } from '../../../runtime/cds/clock/cds-clock';

/** The system clock shifted by an adjustable offset: a site whose wall clock is wrong (timers run normally). */
export class SkewedClock implements CdsClock {
  constructor(public offsetMs = 0) {}

  now(): number {
    return Date.now() + this.offsetMs;
  }

  monotonicMs(): number {
    return systemClock.monotonicMs();
  }

  schedule(callback: () => void, delayMs: number): () => void {
    return systemClock.schedule(callback, delayMs);
  }
}

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

/** A clock that moves only when the test says so: timers scheduled on it run inside `advance`, in order of their time. */
export class ManualClock implements CdsClock {
  private nowMs = Date.now();
  private readonly timers = new Set<{ readonly at: number; readonly callback: () => void }>();

  now(): number {
    return this.nowMs;
  }

  monotonicMs(): number {
    return this.nowMs;
  }

  schedule(callback: () => void, delayMs: number): () => void {
    const timer = { at: this.nowMs + delayMs, callback };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Timers scheduled and not run or cancelled yet. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      const due = [...this.timers].filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due);
      this.nowMs = due.at;
      due.callback();
    }
    this.nowMs = until;
  }
}

import type { Timers } from '../esl';
import type { MetricRegistry } from './metric-registry';

export interface EmfPublisherOptions {
  readonly registry: MetricRegistry;
  /** Receives one JSON line per publication (default: stdout, which the task's log driver ships to CloudWatch Logs). */
  readonly write: (line: string) => void;
  readonly intervalMs: number;
  /** @default the system's, which never keep the process alive for a pending publication */
  readonly timers?: Timers;
  readonly now: () => number;
}

const unrefTimers: Timers = { setTimeout: (callback, ms) => setTimeout(callback, ms).unref(), clearTimeout: (handle) => clearTimeout(handle) };

/** Publishes the registry as an EMF line every interval, and once more when stopped (nothing counted is lost). */
export class EmfPublisher {
  private readonly timers: Timers;
  private timer?: ReturnType<Timers['setTimeout']>;
  private stopped = false;

  constructor(private readonly options: EmfPublisherOptions) {
    this.timers = options.timers ?? unrefTimers;
    this.schedule();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.publish();
  }

  private schedule(): void {
    this.timer = this.timers.setTimeout(() => {
      this.publish();
      if (!this.stopped) this.schedule();
    }, this.options.intervalMs);
  }

  private publish(): void {
    this.options.write(`${JSON.stringify(this.options.registry.emf(this.options.now()))}\n`);
  }
}

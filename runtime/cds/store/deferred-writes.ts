import { errorMessage, type Logger } from '../../shared/logger';
import type { CdsClock } from '../clock/cds-clock';
import { InFlight } from '../in-flight';

const FLUSH_CONCURRENCY = 1;

/**
 * Durable writes that may lag (delivery cursors): only the latest per key is kept, and all are written
 * together every `intervalMs` and on stop. Losing the last ones in a crash only means sending some entries
 * again, which the receiver discards by their timestamps.
 */
export class DeferredWrites {
  private readonly pending = new Map<string, () => Promise<void>>();
  private readonly work = new InFlight();
  private cancelTimer?: () => void;

  constructor(
    private readonly clock: CdsClock,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  set(key: string, write: () => Promise<void>): void {
    this.pending.set(key, write);
    if (!this.cancelTimer) this.cancelTimer = this.clock.schedule(() => void this.work.track(this.flush()), this.intervalMs);
  }

  /** Forgets a pending write (its value is being reset, not raised). */
  discard(key: string): void {
    this.pending.delete(key);
  }

  async flush(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const writes = [...this.pending.values()];
    this.pending.clear();
    // A few at a time, so a flush of many cursors does not stall live traffic behind it.
    const failures: unknown[] = [];
    const worker = async (): Promise<void> => {
      for (let write = writes.shift(); write; write = writes.shift()) await write().catch((error: unknown) => failures.push(error));
    };
    await Promise.all(Array.from({ length: FLUSH_CONCURRENCY }, worker));
    if (failures.length > 0) this.logger.warn('some delivery cursors were not saved; entries may be sent again', { failures: failures.length, error: errorMessage(failures[0]) });
  }

  /** Writes what is pending and waits for flushes under way. */
  async close(): Promise<void> {
    await this.work.settled();
    await this.flush();
  }
}

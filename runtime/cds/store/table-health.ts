import type { CdsClock } from '../clock/cds-clock';

export interface TableHealthOptions {
  /** Throws when the node's table cannot be read. */
  readonly check: () => Promise<void>;
  readonly clock: CdsClock;
  /** A result is reused for this long, so a load balancer polling `/health` does not load the table. */
  readonly cacheMs: number;
  /** A check without an answer by then counts as a failure (the SDK's own retries can take far longer). */
  readonly timeoutMs: number;
}

export type TableStatus = { readonly reachable: true } | { readonly reachable: false; readonly error: string };

/** Whether this node can reach its table, checked at most once per `cacheMs`, one check at a time. */
export class TableHealth {
  private latest?: { readonly status: TableStatus; readonly atMs: number };
  private running?: Promise<TableStatus>;

  constructor(private readonly options: TableHealthOptions) {}

  async status(): Promise<TableStatus> {
    const { latest } = this;
    if (latest && this.options.clock.monotonicMs() - latest.atMs < this.options.cacheMs) return latest.status;
    this.running ??= this.runCheck().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runCheck(): Promise<TableStatus> {
    let cancelTimeout = (): void => undefined;
    const timedOut = new Promise<never>((_, reject) => {
      cancelTimeout = this.options.clock.schedule(() => reject(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    let status: TableStatus;
    try {
      await Promise.race([this.options.check(), timedOut]);
      status = { reachable: true };
    } catch (error) {
      status = { reachable: false, error: error instanceof Error ? error.message : String(error) };
    } finally {
      cancelTimeout();
    }
    this.latest = { status, atMs: this.options.clock.monotonicMs() };
    return status;
  }
}

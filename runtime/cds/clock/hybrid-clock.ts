import type { CdsClock } from './cds-clock';
import { hlcAtMs, hlcToMs, nextHlc, observeHlc, type HlcTimestamp } from './hlc';

/** Another node has taken this node's table: it must write nothing more there. */
export class FencedError extends Error {
  constructor(readonly table: string) {
    super(`fenced: another CDS node took over table ${table}; this node no longer writes to it`);
    this.name = 'FencedError';
  }
}

/**
 * Durable record of how far the clock may have issued stamps (milliseconds), and the single-writer fence of the
 * table: it names the node that owns the table, and the newest node to start wins.
 */
export interface ClockHighWaterMark {
  /**
   * Makes this node the owner, taking over from any previous one without condition (a restarted node must never
   * wait for a dead one), and returns the stored mark.
   */
  take(): Promise<number | undefined>;
  /**
   * Stores `ms` unless a higher mark is stored already; rejects with FencedError once another node has taken
   * the mark.
   */
  raise(ms: number): Promise<void>;
}

/** How far ahead of the physical clock stamps are reserved with one durable write. */
const DEFAULT_RESERVE_AHEAD_MS = 5_000;

/**
 * The owner's hybrid logical clock. Before issuing a stamp past the persisted high-water mark it raises the
 * mark, so a node restarted after a crash (or with its wall clock set back) never issues a stamp at or below
 * one it issued before.
 *
 * It also bounds a zombie node that keeps running after a newer one took the table: the newer node's clock starts
 * above the persisted mark, so its stamps are above any the old node can issue, and the old node's next reservation
 * fails with FencedError, so it writes at most one reserve-ahead window (5 s by default) of data after the takeover.
 */
export class HybridClock {
  private reserving?: Promise<void>;

  private constructor(
    private readonly clock: CdsClock,
    private readonly mark: ClockHighWaterMark,
    private readonly reserveAheadMs: number,
    private last: HlcTimestamp,
    private reservedUntilMs: number,
  ) {}

  static async start(clock: CdsClock, mark: ClockHighWaterMark, reserveAheadMs = DEFAULT_RESERVE_AHEAD_MS): Promise<HybridClock> {
    const persistedMs = (await mark.take()) ?? 0;
    const hybrid = new HybridClock(clock, mark, reserveAheadMs, hlcAtMs(persistedMs), persistedMs);
    await hybrid.reserveThrough(Math.max(persistedMs, clock.now()));
    return hybrid;
  }

  /** A stamp greater than every stamp issued or observed before. */
  async next(): Promise<HlcTimestamp> {
    for (;;) {
      const candidate = nextHlc(this.last, this.clock.now());
      const candidateMs = hlcToMs(candidate);
      if (candidateMs < this.reservedUntilMs) {
        this.last = candidate;
        // Extending early keeps the durable write off the path of the stamp that would otherwise wait for it.
        if (this.reservedUntilMs - candidateMs < this.reserveAheadMs / 2) this.reserveThrough(candidateMs).catch(() => undefined);
        return candidate;
      }
      await this.reserveThrough(candidateMs);
    }
  }

  /** Moves the clock past a timestamp seen elsewhere (a participant's write it accepted). */
  observe(remote: HlcTimestamp): void {
    this.last = observeHlc(this.last, remote);
  }

  /** The current reading in milliseconds, without issuing a stamp: the "owner's time" given to participants. */
  nowMs(): number {
    return Math.max(hlcToMs(this.last), this.clock.now());
  }

  private reserveThrough(ms: number): Promise<void> {
    if (!this.reserving) {
      const until = ms + this.reserveAheadMs;
      this.reserving = this.mark.raise(until).then(
        () => {
          this.reservedUntilMs = Math.max(this.reservedUntilMs, until);
          this.reserving = undefined;
        },
        (error: unknown) => {
          this.reserving = undefined;
          throw error;
        },
      );
    }
    return this.reserving;
  }
}

/** Why a request's nonce is not taken: seen before, or older than what the cache can still tell apart. */
export type NonceRefusal = 'replayed' | 'stale';

/**
 * Nonces of accepted peer requests, kept until a replay of them would fail the timestamp check anyway (twice
 * the accepted clock window after acceptance). Insertion order is expiry order, so pruning is cheap.
 *
 * A nonce forgotten is guarded by a floor on request timestamps: nothing signed before the floor is taken. The
 * floor starts at the process's start (a restarted node has forgotten every nonce, so a captured request
 * cannot be replayed to it), and when the cache is full the oldest nonces are evicted and the floor raised to
 * their timestamps: a full cache costs the oldest requests a retry, never locks peers out, and lets no replay in.
 */
export class NonceCache {
  private readonly entries = new Map<string, { expiresAt: number; timestampMs: number }>();
  private floor: number;

  constructor(
    private readonly windowMs: number,
    private readonly capacity: number,
    startedAtMs: number,
  ) {
    this.floor = startedAtMs;
  }

  /** Requests signed before this are refused as stale. */
  get floorMs(): number {
    return this.floor;
  }

  /** Whether a request signed at `timestampMs` is too old to be told apart from a replay. */
  isStale(timestampMs: number): boolean {
    return timestampMs < this.floor;
  }

  /** Records the nonce of a request signed at `timestampMs`; why not, if it is a replay or stale. */
  remember(nonce: string, timestampMs: number, nowMs: number): NonceRefusal | undefined {
    this.prune(nowMs);
    if (this.entries.has(nonce)) return 'replayed';
    if (this.isStale(timestampMs)) return 'stale';
    while (this.entries.size >= this.capacity) this.evictOldest();
    this.entries.set(nonce, { expiresAt: nowMs + 2 * this.windowMs, timestampMs });
    return undefined;
  }

  private evictOldest(): void {
    const oldest = this.entries.entries().next();
    if (oldest.done) return;
    const [nonce, entry] = oldest.value;
    this.entries.delete(nonce);
    this.floor = Math.max(this.floor, entry.timestampMs + 1);
  }

  private prune(nowMs: number): void {
    for (const [nonce, { expiresAt }] of this.entries) {
      if (expiresAt > nowMs) return;
      this.entries.delete(nonce);
    }
  }
}

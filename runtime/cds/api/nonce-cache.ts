/**
 * Nonces of accepted peer requests, kept until a replay of them would fail the timestamp check anyway
 * (twice the accepted clock window after acceptance). Insertion order is expiry order, so pruning is cheap.
 */
export class NonceCache {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly capacity: number,
  ) {}

  /** Records the nonce; false if it was seen within the window (a replay) or the cache is full. */
  remember(nonce: string, nowMs: number): boolean {
    this.prune(nowMs);
    if (this.expiries.has(nonce) || this.expiries.size >= this.capacity) return false;
    this.expiries.set(nonce, nowMs + 2 * this.windowMs);
    return true;
  }

  private prune(nowMs: number): void {
    for (const [nonce, expiresAt] of this.expiries) {
      if (expiresAt > nowMs) return;
      this.expiries.delete(nonce);
    }
  }
}

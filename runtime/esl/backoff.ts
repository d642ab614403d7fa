export interface BackoffPolicy {
  /** Delay before the first retry (default 500 ms). */
  readonly initialDelayMs?: number;
  /** Upper bound of any delay (default 30 000 ms). */
  readonly maxDelayMs?: number;
  /** Growth factor per failed attempt (default 2). */
  readonly multiplier?: number;
}

/**
 * Delay before retry number `attempt` (0 = first retry): exponential growth capped at maxDelayMs, with "equal
 * jitter" (a random point in the upper half) so that clients cut off together do not reconnect in lockstep.
 * `random` returns a number in [0, 1), like Math.random.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const { initialDelayMs = 500, maxDelayMs = 30_000, multiplier = 2 } = policy;
  const ceiling = Math.min(maxDelayMs, initialDelayMs * multiplier ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

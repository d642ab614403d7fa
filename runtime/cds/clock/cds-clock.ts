/** Time and timers of a CDS node, injected so tests can skew one site's clock and run minutes in milliseconds. */
export interface CdsClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Milliseconds on a clock that only moves forward at a steady rate, for measuring how long something took
   * or lasted: a wall clock set forward must not make every peer look silent past its expiry.
   */
  monotonicMs(): number;
  /** Runs `callback` after `delayMs`; returns a function that cancels it. */
  schedule(callback: () => void, delayMs: number): () => void;
}

export const systemClock: CdsClock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
  schedule: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};

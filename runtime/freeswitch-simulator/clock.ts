/** Time source of the simulator; inject a fake one to run long calls in virtual time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` after `delayMs`; returns a function that cancels it. */
  schedule(callback: () => void, delayMs: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // Node's timers run on a monotonic clock and can fire a millisecond before Date.now() says the delay is over; a
  // call of 2,000 ms must never measure 1,999 by the clock that stamps its channel, so an early timer is re-armed.
  schedule: (callback, delayMs) => {
    const due = Date.now() + delayMs;
    const fire = () => {
      const left = due - Date.now();
      if (left > 0) timer = setTimeout(fire, left);
      else callback();
    };
    let timer = setTimeout(fire, delayMs);
    return () => clearTimeout(timer);
  },
};

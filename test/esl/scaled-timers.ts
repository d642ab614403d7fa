import type { Timers } from '../../runtime/esl/timers';

export interface ScaledTimers extends Timers {
  /** Every delay asked for, unscaled (e.g. backoff delays). */
  readonly requestedMs: number[];
  /** Timers set and neither fired nor cleared yet. */
  readonly pending: number;
}

/** Real timers that run `factor` times faster than asked, so long timeouts and backoffs take milliseconds. */
export function scaledTimers(factor: number): ScaledTimers {
  const requestedMs: number[] = [];
  const live = new Set<NodeJS.Timeout>();
  return {
    requestedMs,
    get pending() {
      return live.size;
    },
    setTimeout: (callback, ms) => {
      requestedMs.push(ms);
      const handle = setTimeout(() => {
        live.delete(handle);
        callback();
      }, ms * factor);
      live.add(handle);
      return handle;
    },
    clearTimeout: (handle) => {
      live.delete(handle);
      clearTimeout(handle);
    },
  };
}

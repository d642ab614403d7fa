/** The timer functions the ESL layer uses, injectable so tests can run long timeouts and backoffs quickly. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(handle: NodeJS.Timeout): void;
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle),
};

/** Resolves true if `promise` settles within `ms`, false otherwise; never leaves a timer running. */
export function settlesWithin(promise: Promise<unknown>, ms: number, timers: Timers): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = timers.setTimeout(() => resolve(false), ms);
    const settle = (): void => {
      timers.clearTimeout(timer);
      resolve(true);
    };
    promise.then(settle, settle);
  });
}

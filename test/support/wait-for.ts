export interface WaitForOptions {
  /** Give up after this long (default 5000 ms). */
  readonly timeoutMs?: number;
  /** How often to re-check the predicate (default 10 ms). */
  readonly intervalMs?: number;
  /** Describes the awaited condition in the timeout error. */
  readonly message?: string;
}

/**
 * Polls `predicate` until it holds, failing with a clear error once the deadline passes.
 * Use it instead of sleeping for a fixed time: tests stay fast and do not flake on slow machines.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 5000, intervalMs = 10, message = 'condition' }: WaitForOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) throw new Error(`waitFor timed out after ${timeoutMs} ms: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

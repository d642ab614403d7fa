/** Tunables of the steps; the defaults suit AWS (Step Functions polls every 10 s). */
export interface StepSettings {
  /**
   * A call that hunted just before the drain write may tag the group a moment after it: the group only
   * counts as drained once FreeSWITCH reports zero calls this long after the write.
   */
  readonly drainSettleMs: number;
  /**
   * A media server's lease lasts this long past each step: longer than any gap between two steps (a
   * Step Functions task retried with backoff waits up to about 2 minutes), short enough that a resume
   * after a crashed orchestrator waits only a few minutes for the dead run's lease.
   */
  readonly leaseTtlMs: number;
  /** A run waiting out an earlier run's lease tries again this long after it expires (clocks of two hosts differ a little). */
  readonly leaseExpiryMarginMs: number;
  /** The drain count is recorded when it changes, and at least this often while it does not. */
  readonly drainSampleIntervalMs: number;
  /** Hangup cause of calls ended by the `force` policy. */
  readonly forceHangupCause: string;
  /** Verification tries this many times before it fails (a freshly started member may need a moment). */
  readonly verifyAttempts: number;
  readonly verifyRetryMs: number;
  /** Rollback waits this long for the previous release to deploy before it leaves the group drained. */
  readonly rollbackTimeoutMs: number;
  readonly rollbackPollMs: number;
  /**
   * A canary check of a process that holds no watch between checks (Lambda) watches the group's calls this
   * long: with the state machine's 10 s poll, two thirds of each step's time is observed (well within the
   * check function's 60 s timeout).
   */
  readonly canaryObserveMs: number;
}

export const DEFAULT_STEP_SETTINGS: StepSettings = {
  drainSettleMs: 2_000,
  leaseTtlMs: 240_000,
  leaseExpiryMarginMs: 1_000,
  drainSampleIntervalMs: 10_000,
  forceHangupCause: 'MANAGER_REQUEST',
  verifyAttempts: 3,
  verifyRetryMs: 1_000,
  rollbackTimeoutMs: 840_000,
  rollbackPollMs: 5_000,
  canaryObserveMs: 20_000,
};

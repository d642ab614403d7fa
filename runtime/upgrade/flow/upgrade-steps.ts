/**
 * The contract of the blue-green call-control upgrade: the steps of upgrading ONE call-control group
 * of ONE media server. The same steps, in the same flow (`upgrade-flow.ts`), run under AWS Step
 * Functions (one Lambda invocation each, the waiting done by Wait/Choice states) and under the local
 * orchestrator (`voiceplane upgrade`, `voiceplane demo`), which interprets that flow with an injected clock. Every step is idempotent and
 * resumable: it reads and writes the group's record in the state store (conditional writes), so a
 * retried or resumed invocation continues where the last one stopped and never repeats a side effect
 * that already happened (a second drain, a second deployment).
 */

import type { CanaryPolicy } from '../canary/canary-policy';

/** What to do when a group's calls have not ended after `maxDrainSeconds`. */
export type DrainTimeoutPolicy = 'wait' | 'force' | 'abort';

/** One group of one media server to upgrade: the input of every step (Step Functions passes it through). */
export interface GroupUpgradeTarget {
  /** Id of the whole upgrade (one request may cover many media servers and groups). */
  readonly upgradeId: string;
  /** Media server id, `<site>/<media server>` (e.g. `west/ms-1`). */
  readonly mediaServerId: string;
  readonly groupId: string;
  /** Image repository and tag to deploy. */
  readonly image: string;
  readonly version: string;
  readonly maxDrainSeconds: number;
  readonly onDrainTimeout: DrainTimeoutPolicy;
  /** Id of this run of the upgrade (one orchestrator process or Step Functions execution): the lease is held per run. */
  readonly runId?: string;
  /**
   * Give the upgraded group these shares of new calls first, each held and judged, before its full
   * reference; null or absent: restore it at once. (Step Functions passes null when the request has none.)
   */
  readonly canary?: CanaryPolicy | null;
}

/** Where a group's upgrade stands; persisted per (upgrade, media server, group). */
export type GroupUpgradePhase =
  | 'pending'
  | 'preflight-passed'
  | 'draining'
  | 'drained'
  | 'deploying'
  | 'deployed'
  | 'verified'
  | 'canary'
  | 'restored'
  | 'rolled-back'
  | 'failed';

/** A lease an earlier run of the same upgrade left on the media server, as preflight saw it. */
export interface EarlierRunLease {
  readonly owner: string;
  readonly leaseUntil: number;
}

/**
 * Result of `preflight`: ready, or the media server's lease is held by an earlier run of this upgrade
 * (a crashed orchestrator, a stopped execution): call preflight again at `retryAt` with `earlierRun`.
 */
export type PreflightCheck =
  | { readonly ready: true }
  | { readonly ready: false; readonly retryAt: string; readonly earlierRun: EarlierRunLease | null };

/** Result of `checkDrain`: Step Functions' Choice state branches on these fields. */
export interface DrainCheck {
  readonly remainingCalls: number;
  readonly elapsedSeconds: number;
  /** FreeSWITCH reports zero calls for the group (after the settle delay following the route write). */
  readonly drained: boolean;
  /** `maxDrainSeconds` has passed with calls remaining. */
  readonly timedOut: boolean;
  /**
   * No call is left but the settle after the route write has not passed: the check that can find the group
   * drained is due this long from now (a runner that can wait exactly need not wait a whole poll).
   */
  readonly settlesInMs?: number;
}

/** Result of `checkDeployment`. */
export interface DeploymentCheck {
  readonly complete: boolean;
  /** Deployment failed for good (e.g. ECS circuit breaker rolled it back): go to rollback. */
  readonly failed: boolean;
  readonly detail: string;
}

/**
 * Result of `checkCanary`. `holding`: the step's share is held (or the next step's share was just
 * written); `passed`: every step passed, the full reference comes next; `backing-out`: the canary failed,
 * its share is 0 and the group drained, its calls still ending; `backed-out`: none left, roll it back.
 */
export interface CanaryCheck {
  readonly status: 'holding' | 'passed' | 'backing-out' | 'backed-out';
  /** The step being held or judged last (0-based) and its share of new calls. */
  readonly step: number;
  readonly share: number;
  /** Calls the group took since its step began (holding), or calls still on it (backing out). */
  readonly calls: number;
  readonly detail: string;
}

/**
 * The steps, in order. Each throws an `UpgradeStepError` (with a stable `code`) for a failure the
 * state machine must route (`PreflightFailed`, `DrainAborted`, `VerificationFailed`, ...), and lets
 * transient errors (ESL connection, throttling) propagate so Step Functions retries with backoff.
 */
export interface GroupUpgradeSteps {
  /**
   * The media server answers over ESL, the group is in its route table, and at least one OTHER group is
   * active and healthy. When an earlier run of the upgrade holds the lease it says when to try again;
   * given the lease it saw then (`earlierRun`), it refuses with `LeaseHeld` if that lease was renewed
   * meanwhile (the other run is alive).
   */
  preflight(target: GroupUpgradeTarget, earlierRun?: EarlierRunLease | null): Promise<PreflightCheck>;
  /** Removes the group's reference with one verified route write; from then on no new call reaches it. */
  drain(target: GroupUpgradeTarget): Promise<void>;
  /** Counts the group's calls from FreeSWITCH and records the count over time. */
  checkDrain(target: GroupUpgradeTarget): Promise<DrainCheck>;
  /** Policy `force`: hangs up the group's remaining calls with a logged cause. */
  forceEndCalls(target: GroupUpgradeTarget): Promise<number>;
  /** Policy `abort`: restores the group's reference and marks the upgrade failed. */
  abortDrain(target: GroupUpgradeTarget): Promise<void>;
  /** Starts deploying `image:version` to the group (ECS: new task-definition revision + UpdateService). */
  deploy(target: GroupUpgradeTarget): Promise<void>;
  checkDeployment(target: GroupUpgradeTarget): Promise<DeploymentCheck>;
  /** Every instance of the group answers /health with the new version and accepts an outbound ESL connection. */
  verify(target: GroupUpgradeTarget): Promise<void>;
  /**
   * With a canary policy, instead of `verify`: checks the new release as `verify` does, then gives the
   * group the first step's share of new calls (a verified route write).
   */
  openCanary(target: GroupUpgradeTarget): Promise<void>;
  /**
   * Judges the canary's current step from the calls the group took: holds it, moves to the next share,
   * or after the last passes; on a failure sets the group's share to 0, drains it and then reports its
   * calls until none is left (they end naturally; none is touched).
   */
  checkCanary(target: GroupUpgradeTarget): Promise<CanaryCheck>;
  /** Adds the group's reference back with a verified route write (after a canary: its share removed). */
  restore(target: GroupUpgradeTarget): Promise<void>;
  /**
   * After a failure past `drain`: redeploys the previous version, verifies it and restores the
   * reference; if that fails too, leaves the group drained (never the last routable group) and
   * records why. Never throws for the failure it handles; returns the final phase.
   */
  rollback(target: GroupUpgradeTarget, cause: string): Promise<GroupUpgradePhase>;
}

/** Names of the steps as Step Functions task states and Lambda handlers know them. */
export const GROUP_UPGRADE_STEP_NAMES = [
  'preflight',
  'drain',
  'checkDrain',
  'forceEndCalls',
  'abortDrain',
  'deploy',
  'checkDeployment',
  'verify',
  'openCanary',
  'checkCanary',
  'restore',
  'rollback',
] as const satisfies readonly (keyof GroupUpgradeSteps)[];

export type GroupUpgradeStepName = (typeof GROUP_UPGRADE_STEP_NAMES)[number];

/** Error codes a step throws for failures the state machine routes (Step Functions matches `Error` names). */
export const UPGRADE_ERROR_CODES = ['PreflightFailed', 'LeaseHeld', 'DrainAborted', 'DeploymentFailed', 'VerificationFailed', 'CanaryFailed', 'RouteWriteFailed', 'InvalidInput'] as const;
export type UpgradeErrorCode = (typeof UPGRADE_ERROR_CODES)[number];

/** A routed step failure; its `name` is the code so Step Functions' Catch/Retry can match it. */
export class UpgradeStepError extends Error {
  constructor(
    readonly code: UpgradeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

import type { GroupUpgradeStepName } from './upgrade-steps';

/**
 * The flow of upgrading ONE group of ONE media server, as data: its states, the transition for each
 * outcome, which errors stop the group or roll it back, and how transient failures are retried. It is
 * the single description of the flow: `buildUpgradeStateMachine` renders it as Amazon States Language
 * and the local orchestrator (`runUpgrade`) interprets it, so Step Functions and `voiceplane upgrade`
 * cannot drift apart.
 *
 * The flow reads and writes one JSON document per group, shaped as Step Functions passes it:
 * `target` (the step input), `earlierRun` (the lease an earlier run of the upgrade left behind),
 * the results `preflight`, `drain`, `deployment`, `canary`, `rollback`, and `error` ({Error, Cause}) once a
 * failure was caught.
 *
 * With a canary policy (`target.canary`), a deployed group is not restored at once: `OpenCanary` verifies it
 * and gives it the first step's share of new calls, and the `WaitForCanary`/`CheckCanary` loop holds and judges
 * each step until the last passes (then `Restore`), or until a failed canary, its share 0 and the group drained,
 * has no call left (then `Rollback`, which redeploys the previous version).
 */

/** Fields of the flow document a choice or a wait may read (dotted paths). */
export type FlowField =
  | 'preflight.ready'
  | 'preflight.retryAt'
  | 'preflight.earlierRun'
  | 'drain.drained'
  | 'drain.timedOut'
  | 'deployment.complete'
  | 'deployment.failed'
  | 'deployment.detail'
  | 'canary.status'
  | 'canary.detail'
  | 'target.onDrainTimeout'
  | 'target.canary';

/** `isSet`: the field holds a value other than null (a field the plan always fills in, with null for none). */
export type FlowCondition =
  | { readonly field: FlowField; readonly equals: boolean | string }
  | { readonly field: FlowField; readonly isSet: boolean }
  | { readonly all: readonly FlowCondition[] };

export type FlowStateName =
  | 'Preflight'
  | 'PreflightProgress'
  | 'WaitForEarlierRun'
  | 'RememberEarlierRun'
  | 'GroupNotStarted'
  | 'Drain'
  | 'WaitForDrainSettle'
  | 'WaitForDrain'
  | 'CheckDrain'
  | 'DrainProgress'
  | 'ForceEndCalls'
  | 'AbortDrain'
  | 'DrainAborted'
  | 'Deploy'
  | 'WaitForDeployment'
  | 'CheckDeployment'
  | 'DeploymentProgress'
  | 'DeploymentFailed'
  | 'Verify'
  | 'OpenCanary'
  | 'WaitForCanary'
  | 'CheckCanary'
  | 'CanaryProgress'
  | 'CanaryFailed'
  | 'Restore'
  | 'GroupUpgraded'
  | 'GroupStopped'
  | 'Rollback'
  | 'GroupRolledBack';

/** Errors matched by name; `all` matches any error. */
export interface FlowCatch {
  readonly errors: readonly string[] | 'all';
  readonly next: FlowStateName;
}

export interface FlowTask {
  readonly type: 'task';
  readonly step: GroupUpgradeStepName;
  /** What the step receives besides the target: preflight the earlier run's lease, rollback the caught error's cause. */
  readonly with?: 'earlierRun' | 'cause';
  /** Where the step's result goes in the document (none: the result is dropped). */
  readonly result?: 'preflight' | 'drain' | 'deployment' | 'canary' | 'rollback';
  readonly next: FlowStateName;
  /** In order, the first match wins; an error no catch matches fails the group (and its media server) as it is. */
  readonly catches: readonly FlowCatch[];
}

export interface FlowWait {
  readonly type: 'wait';
  /**
   * `poll`: the poll interval; `firstPoll`: the first check after a write, which Step Functions makes sooner
   * (`firstPollSeconds`) and a local runner at once; otherwise the ISO time held in that field.
   */
  readonly until: 'poll' | 'firstPoll' | 'preflight.retryAt';
  /** A runner that can hear a call of the group end may stop waiting then (Step Functions just polls). */
  readonly wakeOnGroupCallEnd?: boolean;
  readonly next: FlowStateName;
}

export interface FlowChoice {
  readonly type: 'choice';
  readonly choices: readonly { readonly when: FlowCondition; readonly next: FlowStateName }[];
  readonly otherwise: FlowStateName;
}

/** Copies one field of the document into another. */
export interface FlowCopy {
  readonly type: 'copy';
  readonly from: 'preflight.earlierRun';
  readonly to: 'earlierRun';
  readonly next: FlowStateName;
}

/** Turns a result into a caught error (as if a step had thrown it). */
export interface FlowRaise {
  readonly type: 'raise';
  readonly error: 'DeploymentFailed' | 'CanaryFailed';
  readonly causeFrom: FlowField;
  readonly next: FlowStateName;
}

/** The group's flow ends: upgraded, or failed with `error` (the error caught on the way, when there was one, says more). */
export type FlowEnd = { readonly type: 'end'; readonly outcome: 'upgraded' } | { readonly type: 'end'; readonly outcome: 'failed'; readonly error: string; readonly cause: string };

export type FlowState = FlowTask | FlowWait | FlowChoice | FlowCopy | FlowRaise | FlowEnd;

/** Errors that pass with time: Lambda's own, a media server or DynamoDB briefly unreachable, slow or throttling. Steps are idempotent, so a retry is safe. */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'EslConnectionError',
  'EslTimeoutError',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  // The SDK's request timeout (DynamoDB, ECS): the request may or may not have landed; the step's conditional writes make the retry safe.
  'TimeoutError',
] as const;

/**
 * Every task's retry of a transient error: 6 retries (7 attempts), waits of up to 2, 4, ... 64 s
 * (full jitter), about 2 minutes in all, which the media server's lease (4 minutes past the last step)
 * outlasts.
 */
export const RETRY_POLICY = { errors: TRANSIENT_ERRORS, intervalSeconds: 2, backoffRate: 2, maxRetries: 6, jitter: 'full' } as const;

/**
 * Another run holds the media server's lease (its own lapsed and someone took it) or moved the group's
 * phase on: that run is in charge of the media server and its routes. A rollback would fight it
 * (redeploy under it, rewrite routes it relies on), so the group stops as it is and says why.
 */
export const STOP_ERRORS = ['PhaseConflictError', 'LeaseHeld'] as const;

const afterDrain: readonly FlowCatch[] = [
  { errors: STOP_ERRORS, next: 'GroupStopped' },
  { errors: 'all', next: 'Rollback' },
];

const states: Readonly<Record<FlowStateName, FlowState>> = {
  Preflight: {
    type: 'task',
    step: 'preflight',
    with: 'earlierRun',
    result: 'preflight',
    next: 'PreflightProgress',
    // Nothing changed yet: a failed preflight ends the group without a rollback.
    catches: [{ errors: 'all', next: 'GroupNotStarted' }],
  },
  PreflightProgress: {
    type: 'choice',
    // An earlier run of this upgrade (a crashed orchestrator, a stopped execution) still holds the lease: wait it out.
    choices: [{ when: { field: 'preflight.ready', equals: false }, next: 'WaitForEarlierRun' }],
    otherwise: 'Drain',
  },
  WaitForEarlierRun: { type: 'wait', until: 'preflight.retryAt', next: 'RememberEarlierRun' },
  // Preflight compares the lease with the one it saw: a lease renewed meanwhile belongs to a live run, which it refuses.
  RememberEarlierRun: { type: 'copy', from: 'preflight.earlierRun', to: 'earlierRun', next: 'Preflight' },
  GroupNotStarted: { type: 'end', outcome: 'failed', error: 'PreflightFailed', cause: 'preflight refused the group; its routes were not touched' },
  Drain: { type: 'task', step: 'drain', next: 'WaitForDrainSettle', catches: afterDrain },
  // A group with no call left counts as drained once the steps' settle after the write has passed: check then, not a full poll later.
  WaitForDrainSettle: { type: 'wait', until: 'firstPoll', wakeOnGroupCallEnd: true, next: 'CheckDrain' },
  WaitForDrain: { type: 'wait', until: 'poll', wakeOnGroupCallEnd: true, next: 'CheckDrain' },
  CheckDrain: { type: 'task', step: 'checkDrain', result: 'drain', next: 'DrainProgress', catches: afterDrain },
  DrainProgress: {
    type: 'choice',
    choices: [
      { when: { field: 'drain.drained', equals: true }, next: 'Deploy' },
      { when: { all: [{ field: 'drain.timedOut', equals: true }, { field: 'target.onDrainTimeout', equals: 'force' }] }, next: 'ForceEndCalls' },
      { when: { all: [{ field: 'drain.timedOut', equals: true }, { field: 'target.onDrainTimeout', equals: 'abort' }] }, next: 'AbortDrain' },
    ],
    // Still draining, or timed out under the `wait` policy (checkDrain records the count over time).
    otherwise: 'WaitForDrain',
  },
  ForceEndCalls: { type: 'task', step: 'forceEndCalls', next: 'WaitForDrain', catches: afterDrain },
  // A failed abort leaves the group drained: the rollback restores the route once the old release answers.
  AbortDrain: { type: 'task', step: 'abortDrain', next: 'DrainAborted', catches: afterDrain },
  DrainAborted: { type: 'end', outcome: 'failed', error: 'DrainAborted', cause: 'calls did not end within maxDrainSeconds; the group was restored unchanged' },
  // Checked at once: a deployment that completes within `deploy` (a local one) goes on without waiting a poll.
  Deploy: { type: 'task', step: 'deploy', next: 'CheckDeployment', catches: afterDrain },
  WaitForDeployment: { type: 'wait', until: 'poll', next: 'CheckDeployment' },
  CheckDeployment: { type: 'task', step: 'checkDeployment', result: 'deployment', next: 'DeploymentProgress', catches: afterDrain },
  DeploymentProgress: {
    type: 'choice',
    choices: [
      { when: { all: [{ field: 'deployment.complete', equals: true }, { field: 'target.canary', isSet: false }] }, next: 'Verify' },
      { when: { field: 'deployment.complete', equals: true }, next: 'OpenCanary' },
      { when: { field: 'deployment.failed', equals: true }, next: 'DeploymentFailed' },
    ],
    otherwise: 'WaitForDeployment',
  },
  DeploymentFailed: { type: 'raise', error: 'DeploymentFailed', causeFrom: 'deployment.detail', next: 'Rollback' },
  Verify: { type: 'task', step: 'verify', next: 'Restore', catches: afterDrain },
  OpenCanary: { type: 'task', step: 'openCanary', next: 'WaitForCanary', catches: afterDrain },
  WaitForCanary: { type: 'wait', until: 'poll', next: 'CheckCanary' },
  CheckCanary: { type: 'task', step: 'checkCanary', result: 'canary', next: 'CanaryProgress', catches: afterDrain },
  CanaryProgress: {
    type: 'choice',
    choices: [
      { when: { field: 'canary.status', equals: 'passed' }, next: 'Restore' },
      { when: { field: 'canary.status', equals: 'backed-out' }, next: 'CanaryFailed' },
    ],
    // Holding a step, or a failed canary's calls still ending.
    otherwise: 'WaitForCanary',
  },
  CanaryFailed: { type: 'raise', error: 'CanaryFailed', causeFrom: 'canary.detail', next: 'Rollback' },
  Restore: { type: 'task', step: 'restore', next: 'GroupUpgraded', catches: afterDrain },
  GroupUpgraded: { type: 'end', outcome: 'upgraded' },
  GroupStopped: {
    type: 'end',
    outcome: 'failed',
    error: 'GroupStopped',
    cause: 'another run holds the media server or changed the group; stopped without rolling back',
  },
  // Rollback never throws for the failure it handles; an error it does throw fails the group as it is.
  Rollback: { type: 'task', step: 'rollback', with: 'cause', result: 'rollback', next: 'GroupRolledBack', catches: [] },
  GroupRolledBack: { type: 'end', outcome: 'failed', error: 'GroupUpgradeFailed', cause: 'the group was rolled back (or left drained); see the Rollback task output' },
};


export interface GroupUpgradeFlow {
  readonly startAt: FlowStateName;
  readonly states: Readonly<Record<FlowStateName, FlowState>>;
}

export const GROUP_UPGRADE_FLOW: GroupUpgradeFlow = { startAt: 'Preflight', states };

/** The state running each step (one per step, as Step Functions requires unique names). */
export function taskStateOf(step: GroupUpgradeStepName, flow: GroupUpgradeFlow = GROUP_UPGRADE_FLOW): FlowStateName {
  const names = (Object.keys(flow.states) as FlowStateName[]).filter((name) => {
    const state = flow.states[name];
    return state.type === 'task' && state.step === step;
  });
  if (names.length !== 1) throw new Error(`the upgrade flow must run step ${step} in exactly one state, found ${names.length}`);
  return names[0];
}

/** The first catch matching an error of this name, if any. */
export function catchOf(task: FlowTask, errorName: string): FlowCatch | undefined {
  return task.catches.find((candidate) => candidate.errors === 'all' || candidate.errors.includes(errorName));
}

/**
 * The longest wait before retrying after `attempt` failed attempts (1-based) with an error of this name;
 * undefined when it is not retried (not transient, or the retries are spent).
 */
export function retryDelayCeilingMs(errorName: string, attempt: number, firstIntervalMs: number = RETRY_POLICY.intervalSeconds * 1000): number | undefined {
  if (!(RETRY_POLICY.errors as readonly string[]).includes(errorName) || attempt > RETRY_POLICY.maxRetries) return undefined;
  return firstIntervalMs * RETRY_POLICY.backoffRate ** (attempt - 1);
}

/** Reads a dotted field of the flow document (undefined when a part is missing). */
export function readField(document: Readonly<Record<string, unknown>>, field: FlowField): unknown {
  return field.split('.').reduce<unknown>((value, part) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined), document);
}

export function conditionHolds(condition: FlowCondition, document: Readonly<Record<string, unknown>>): boolean {
  if ('all' in condition) return condition.all.every((part) => conditionHolds(part, document));
  const value = readField(document, condition.field);
  return 'isSet' in condition ? (value !== undefined && value !== null) === condition.isSet : value === condition.equals;
}

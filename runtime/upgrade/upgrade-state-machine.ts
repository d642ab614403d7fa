import { GroupUpgradeStepName } from './upgrade-steps';

/**
 * The Step Functions definition of a call-control upgrade, generated from the step contract
 * (pure: no AWS calls; lib/ renders it into the state machine resource).
 *
 * Execution input (what an operator pastes into "Start execution"): an upgrade request, e.g.
 *   {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/call-control", "version": "1.5.0",
 *    "groups": ["blue", "green"], "mediaServers": "all", "maxDrainSeconds": 900,
 *    "onDrainTimeout": "wait", "concurrency": 5}
 * `Plan` validates it and expands it into media servers, each with its groups in blue-green order;
 * media servers run in parallel (at most `concurrency`), the groups of one media server one after
 * the other. A group that fails is rolled back (previous version, health check, route restored, or
 * left drained when that fails too) and stops the later groups of its media server; the execution
 * fails at the end when any media server failed.
 *
 * Every drain or deployment poll adds about 9 events to an execution's history (Wait 2, Task 5,
 * Choice 2), which Step Functions caps at 25,000 events. So each media server runs in a child execution
 * of its own (a Distributed Map): the parent's history no longer grows with the fleet, and one child
 * holds about 2,700 polls, i.e. at the default 10 s poll interval some 7 hours of drain and deployment
 * waiting summed over the groups of ONE media server, whatever the fleet size. A longer drain (stuck
 * calls under the `wait` policy) needs `force`/`abort`, or a longer `pollSeconds`.
 */

/** Every Lambda-backed task: the group steps plus the planning step in front of them. */
export type UpgradeTaskName = GroupUpgradeStepName | 'plan';

export interface UpgradeStateMachineOptions {
  /** ARN of the Lambda function behind each task. */
  readonly functionArns: Readonly<Record<UpgradeTaskName, string>>;
  /**
   * Seconds between two drain or deployment checks.
   * @default 10
   */
  readonly pollSeconds?: number;
}

/** Errors worth retrying: Lambda's own transient failures and a media server briefly unreachable. */
const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'EslConnectionError',
  'EslTimeoutError',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
];

/** State names of the group flow, by step (unique across the whole machine, as Step Functions requires). */
export const TASK_STATE_NAMES: Readonly<Record<UpgradeTaskName, string>> = {
  plan: 'Plan',
  preflight: 'Preflight',
  drain: 'Drain',
  checkDrain: 'CheckDrain',
  forceEndCalls: 'ForceEndCalls',
  abortDrain: 'AbortDrain',
  deploy: 'Deploy',
  checkDeployment: 'CheckDeployment',
  verify: 'Verify',
  restore: 'Restore',
  rollback: 'Rollback',
};

type State = Record<string, unknown>;

export function buildUpgradeStateMachine(options: UpgradeStateMachineOptions): Record<string, unknown> {
  const pollSeconds = options.pollSeconds ?? 10;
  if (!Number.isInteger(pollSeconds) || pollSeconds < 1) {
    throw new Error(`pollSeconds must be a positive whole number of seconds, got ${pollSeconds}`);
  }
  const task = (name: UpgradeTaskName, fields: State): State => ({
    Type: 'Task',
    Resource: options.functionArns[name],
    Retry: [{ ErrorEquals: TRANSIENT_ERRORS, IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 6, JitterStrategy: 'FULL' }],
    ...fields,
  });
  // Another run of the same upgrade moved the group on or holds its lease: it is in charge, and a rollback would undo its work.
  const toStopped = { ErrorEquals: ['PhaseConflictError', 'LeaseHeld'], ResultPath: '$.error', Next: 'GroupStopped' };
  const toRollback = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Rollback' };
  const afterDrainCatch = [toStopped, toRollback];

  const groupFlow: Record<string, State> = {
    Preflight: task('preflight', {
      InputPath: '$.target',
      ResultPath: null,
      Next: 'Drain',
      // Nothing changed yet: a failed preflight ends the group without a rollback.
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'GroupNotStarted' }],
    }),
    GroupNotStarted: { Type: 'Fail', Error: 'PreflightFailed', Cause: 'preflight refused the group; its routes were not touched' },
    Drain: task('drain', { InputPath: '$.target', ResultPath: null, Next: 'WaitForDrain', Catch: afterDrainCatch }),
    WaitForDrain: { Type: 'Wait', Seconds: pollSeconds, Next: 'CheckDrain' },
    CheckDrain: task('checkDrain', { InputPath: '$.target', ResultPath: '$.drain', Next: 'DrainProgress', Catch: afterDrainCatch }),
    DrainProgress: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.drain.drained', BooleanEquals: true, Next: 'Deploy' },
        { And: [{ Variable: '$.drain.timedOut', BooleanEquals: true }, { Variable: '$.target.onDrainTimeout', StringEquals: 'force' }], Next: 'ForceEndCalls' },
        { And: [{ Variable: '$.drain.timedOut', BooleanEquals: true }, { Variable: '$.target.onDrainTimeout', StringEquals: 'abort' }], Next: 'AbortDrain' },
      ],
      // Still draining, or timed out under the `wait` policy (checkDrain records the count over time).
      Default: 'WaitForDrain',
    },
    ForceEndCalls: task('forceEndCalls', { InputPath: '$.target', ResultPath: null, Next: 'WaitForDrain', Catch: afterDrainCatch }),
    AbortDrain: task('abortDrain', { InputPath: '$.target', ResultPath: null, Next: 'DrainAborted' }),
    DrainAborted: { Type: 'Fail', Error: 'DrainAborted', Cause: 'calls did not end within maxDrainSeconds; the group was restored unchanged' },
    Deploy: task('deploy', { InputPath: '$.target', ResultPath: null, Next: 'WaitForDeployment', Catch: afterDrainCatch }),
    WaitForDeployment: { Type: 'Wait', Seconds: pollSeconds, Next: 'CheckDeployment' },
    CheckDeployment: task('checkDeployment', { InputPath: '$.target', ResultPath: '$.deployment', Next: 'DeploymentProgress', Catch: afterDrainCatch }),
    DeploymentProgress: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.deployment.complete', BooleanEquals: true, Next: 'Verify' },
        { Variable: '$.deployment.failed', BooleanEquals: true, Next: 'DeploymentFailed' },
      ],
      Default: 'WaitForDeployment',
    },
    DeploymentFailed: {
      Type: 'Pass',
      Parameters: { Error: 'DeploymentFailed', 'Cause.$': '$.deployment.detail' },
      ResultPath: '$.error',
      Next: 'Rollback',
    },
    Verify: task('verify', { InputPath: '$.target', ResultPath: null, Next: 'Restore', Catch: afterDrainCatch }),
    Restore: task('restore', { InputPath: '$.target', ResultPath: null, Next: 'GroupUpgraded', Catch: afterDrainCatch }),
    GroupUpgraded: { Type: 'Succeed' },
    GroupStopped: { Type: 'Fail', Error: 'GroupStopped', Cause: 'another run of this upgrade holds the media server or changed the group; stopped without rolling back' },
    Rollback: task('rollback', {
      Parameters: { 'target.$': '$.target', 'cause.$': '$.error.Cause' },
      ResultPath: '$.rollback',
      Next: 'GroupRolledBack',
    }),
    GroupRolledBack: { Type: 'Fail', Error: 'GroupUpgradeFailed', Cause: 'the group was rolled back (or left drained); see the Rollback task output' },
  };

  return {
    Comment: 'voiceplane blue-green call-control upgrade: drain, wait for calls to end, deploy, verify, restore; group by group',
    StartAt: 'Plan',
    States: {
      // The execution name becomes the upgrade id unless the request names one.
      Plan: task('plan', { Parameters: { 'request.$': '$', 'executionName.$': '$$.Execution.Name' }, Next: 'UpgradeMediaServers' }),
      UpgradeMediaServers: {
        Type: 'Map',
        ItemsPath: '$.mediaServers',
        MaxConcurrencyPath: '$.concurrency',
        ItemSelector: { 'mediaServer.$': '$$.Map.Item.Value' },
        ResultPath: '$.results',
        Next: 'SummarizeResults',
        ItemProcessor: {
          // Standard, not Express: a drain can outlast Express's 5-minute limit.
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'UpgradeGroupsInOrder',
          States: {
            UpgradeGroupsInOrder: {
              Type: 'Map',
              ItemsPath: '$.mediaServer.targets',
              // Blue-green: one group at a time, and a failed group stops the ones after it.
              MaxConcurrency: 1,
              ItemSelector: { 'target.$': '$$.Map.Item.Value' },
              ResultPath: null,
              Next: 'MediaServerUpgraded',
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MediaServerFailed' }],
              ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Preflight', States: groupFlow },
            },
            MediaServerUpgraded: {
              Type: 'Pass',
              Parameters: { 'mediaServerId.$': '$.mediaServer.mediaServerId', status: 'upgraded' },
              End: true,
            },
            MediaServerFailed: {
              Type: 'Pass',
              Parameters: { 'mediaServerId.$': '$.mediaServer.mediaServerId', status: 'failed', 'error.$': '$.error' },
              End: true,
            },
          },
        },
      },
      SummarizeResults: {
        Type: 'Pass',
        Parameters: {
          'upgradeId.$': '$.upgradeId',
          'results.$': '$.results',
          'anyFailed.$': "States.ArrayContains($.results[*].status, 'failed')",
        },
        Next: 'UpgradeOutcome',
      },
      UpgradeOutcome: {
        Type: 'Choice',
        Choices: [{ Variable: '$.anyFailed', BooleanEquals: true, Next: 'UpgradeFailed' }],
        Default: 'UpgradeSucceeded',
      },
      UpgradeFailed: { Type: 'Fail', Error: 'UpgradeFailed', Cause: 'one or more media servers failed; their groups were rolled back or left drained (see results)' },
      UpgradeSucceeded: { Type: 'Succeed' },
    },
  };
}

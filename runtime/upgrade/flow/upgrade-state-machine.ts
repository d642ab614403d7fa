import {
  GROUP_UPGRADE_FLOW,
  RETRY_POLICY,
  taskStateOf,
  type FlowCondition,
  type FlowState,
  type FlowStateName,
  type FlowTask,
} from './upgrade-flow';
import type { UpgradeRelease } from './state-machine-plan';
import { GROUP_UPGRADE_STEP_NAMES, type GroupUpgradeStepName } from './upgrade-steps';

/**
 * The Step Functions definition of a call-control upgrade: the group flow of `upgrade-flow.ts` rendered
 * as Amazon States Language inside the per-media-server maps (pure: no AWS calls; lib/ renders it into
 * the state machine resource).
 *
 * Execution input (what an operator pastes into "Start execution"): an upgrade request, e.g.
 *   {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/call-control", "version": "1.5.0",
 *    "groups": ["blue", "green"], "mediaServers": "all", "maxDrainSeconds": 900,
 *    "onDrainTimeout": "wait", "concurrency": 5}
 * `Plan` validates it and expands it into media servers, each with its groups in blue-green order;
 * media servers run in parallel (at most `concurrency`), the groups of one media server one after
 * the other. With `canary` (e.g. {"steps": [5, 25], "hold": {"seconds": 120}}) each upgraded group first takes
 * those shares of new calls, each held and judged (WaitForCanary/CheckCanary poll like a drain), and a failed
 * canary is backed out and rolled back and stops the groups not yet started. A group that fails is rolled back (previous version, health check, route restored, or
 * left drained when that fails too) and stops the later groups of its media server; the execution
 * fails at the end when any media server failed.
 *
 * Every drain or deployment poll adds about 9 events to an execution's history (Wait 2, Task 5,
 * Choice 2), which Step Functions caps at 25,000 events. So each media server runs in a child execution
 * of its own (a Distributed Map): the parent's history no longer grows with the fleet, and one child
 * holds about 2,700 polls, i.e. at the default 10 s poll interval some 7 hours of drain and deployment
 * waiting summed over the groups of ONE media server, whatever the fleet size. A longer drain (stuck
 * calls under the `wait` policy) needs `force`/`abort`, or a longer `pollSeconds`. The parent's history
 * is 17 events for any fleet (35 with `Plan` retried); its state, the Distributed Map's items and then their results, stays
 * under the 256 KiB payload limit for 2,000 media servers (`state-machine-plan.ts`).
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
  /**
   * Seconds from a drain write to its first check, sooner than a poll: a group with no call left is seen
   * drained then. The steps' drain settle (2 s by default) is the earliest a check can report a drain.
   * @default 2
   */
  readonly firstPollSeconds?: number;
}

/** State names of the tasks, by step (unique across the whole machine, as Step Functions requires). */
export const TASK_STATE_NAMES: Readonly<Record<UpgradeTaskName, string>> = {
  plan: 'Plan',
  ...(Object.fromEntries(GROUP_UPGRADE_STEP_NAMES.map((step) => [step, taskStateOf(step)])) as Record<GroupUpgradeStepName, FlowStateName>),
};

type State = Record<string, unknown>;

export function buildUpgradeStateMachine(options: UpgradeStateMachineOptions): Record<string, unknown> {
  const pollSeconds = options.pollSeconds ?? 10;
  if (!Number.isInteger(pollSeconds) || pollSeconds < 1) {
    throw new Error(`pollSeconds must be a positive whole number of seconds, got ${pollSeconds}`);
  }
  const firstPollSeconds = options.firstPollSeconds ?? Math.min(2, pollSeconds);
  if (!Number.isInteger(firstPollSeconds) || firstPollSeconds < 1 || firstPollSeconds > pollSeconds) {
    throw new Error(`firstPollSeconds must be a whole number of seconds from 1 to pollSeconds (${pollSeconds}), got ${firstPollSeconds}`);
  }
  const retry = {
    ErrorEquals: [...RETRY_POLICY.errors],
    IntervalSeconds: RETRY_POLICY.intervalSeconds,
    BackoffRate: RETRY_POLICY.backoffRate,
    MaxAttempts: RETRY_POLICY.maxRetries,
    JitterStrategy: 'FULL',
  };
  const task = (name: UpgradeTaskName, fields: State): State => ({ Type: 'Task', Resource: options.functionArns[name], Retry: [retry], ...fields });
  const groupFlow = Object.fromEntries(
    (Object.entries(GROUP_UPGRADE_FLOW.states) as [FlowStateName, FlowState][]).map(([name, state]) => [name, renderState(state, task, { poll: pollSeconds, firstPoll: firstPollSeconds })]),
  );

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
        // Every step failure is caught inside the child, which then reports `failed`: a child execution that
        // itself fails met a Step Functions runtime or data-limit error, and the upgrade stops there.
        ToleratedFailurePercentage: 0,
        ItemSelector: { 'release.$': '$.release', 'mediaServer.$': '$$.Map.Item.Value' },
        // The results take the items' place: the state stays within 256 KiB (see state-machine-plan.ts).
        ResultPath: '$.mediaServers',
        Next: 'SummarizeResults',
        ItemProcessor: {
          // Standard, not Express: a drain can outlast Express's 5-minute limit.
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'UpgradeGroupsInOrder',
          States: {
            UpgradeGroupsInOrder: {
              Type: 'Map',
              ItemsPath: '$.mediaServer.groups',
              // Blue-green: one group at a time, and a failed group stops the ones after it.
              MaxConcurrency: 1,
              // No earlier run's lease seen yet (see the flow's WaitForEarlierRun).
              ItemSelector: { target: groupTargetSelector(), earlierRun: null },
              ResultPath: null,
              Next: 'MediaServerUpgraded',
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MediaServerFailed' }],
              ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: GROUP_UPGRADE_FLOW.startAt, States: groupFlow },
            },
            MediaServerUpgraded: {
              Type: 'Pass',
              Parameters: { 'mediaServerId.$': '$.mediaServer.mediaServerId', status: 'upgraded' },
              End: true,
            },
            MediaServerFailed: {
              Type: 'Pass',
              // The error's name only: its cause (up to 32 KiB) stays in the child's history and the audit trail.
              Parameters: { 'mediaServerId.$': '$.mediaServer.mediaServerId', status: 'failed', 'error.$': '$.error.Error' },
              End: true,
            },
          },
        },
      },
      SummarizeResults: {
        Type: 'Pass',
        Parameters: {
          'upgradeId.$': '$.upgradeId',
          'results.$': '$.mediaServers',
          'anyFailed.$': "States.ArrayContains($.mediaServers[*].status, 'failed')",
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

/** A group's step input, built in the child from the plan's shared release and the media server item (the group is the map item). */
function groupTargetSelector(): State {
  const releaseFields = Object.fromEntries(RELEASE_FIELDS.map((field) => [`${field}.$`, `$.release.${field}`]));
  return { ...releaseFields, 'mediaServerId.$': '$.mediaServer.mediaServerId', 'groupId.$': '$$.Map.Item.Value' };
}

const RELEASE_FIELDS: readonly (keyof UpgradeRelease)[] = ['upgradeId', 'runId', 'image', 'version', 'maxDrainSeconds', 'onDrainTimeout', 'canary'];

function renderState(state: FlowState, task: (name: UpgradeTaskName, fields: State) => State, waitSeconds: { poll: number; firstPoll: number }): State {
  switch (state.type) {
    case 'task':
      return task(state.step, {
        ...taskInput(state),
        ResultPath: state.result === undefined ? null : `$.${state.result}`,
        Next: state.next,
        ...(state.catches.length === 0
          ? {}
          : { Catch: state.catches.map((route) => ({ ErrorEquals: route.errors === 'all' ? ['States.ALL'] : [...route.errors], ResultPath: '$.error', Next: route.next })) }),
      });
    case 'wait':
      return { Type: 'Wait', ...(state.until === 'poll' || state.until === 'firstPoll' ? { Seconds: waitSeconds[state.until] } : { TimestampPath: `$.${state.until}` }), Next: state.next };
    case 'choice':
      return { Type: 'Choice', Choices: state.choices.map((choice) => ({ ...renderCondition(choice.when), Next: choice.next })), Default: state.otherwise };
    case 'copy':
      return { Type: 'Pass', InputPath: `$.${state.from}`, ResultPath: `$.${state.to}`, Next: state.next };
    case 'raise':
      return { Type: 'Pass', Parameters: { Error: state.error, 'Cause.$': `$.${state.causeFrom}` }, ResultPath: '$.error', Next: state.next };
    case 'end':
      return state.outcome === 'upgraded' ? { Type: 'Succeed' } : { Type: 'Fail', Error: state.error, Cause: state.cause };
  }
}

function taskInput(state: FlowTask): State {
  switch (state.with) {
    case undefined:
      return { InputPath: '$.target' };
    case 'earlierRun':
      return { Parameters: { 'target.$': '$.target', 'earlierRun.$': '$.earlierRun' } };
    case 'cause':
      return { Parameters: { 'target.$': '$.target', 'cause.$': '$.error.Cause' } };
  }
}

function renderCondition(condition: FlowCondition): State {
  if ('all' in condition) return { And: condition.all.map(renderCondition) };
  // The plan always fills the field in (null for none): IsNull never meets a missing field.
  if ('isSet' in condition) return { Variable: `$.${condition.field}`, IsNull: !condition.isSet };
  return { Variable: `$.${condition.field}`, [typeof condition.equals === 'boolean' ? 'BooleanEquals' : 'StringEquals']: condition.equals };
}

import '../support/promise-with-resolvers';
import { StateMachine } from 'aws-local-stepfunctions';
import { parseFleetInventory, type FleetInventory } from '../../runtime/upgrade/inventory/fleet-inventory';
import { planUpgrade } from '../../runtime/upgrade/flow/upgrade-plan';
import { STATE_PAYLOAD_LIMIT_BYTES, stateMachinePlan } from '../../runtime/upgrade/flow/state-machine-plan';
import { TASK_STATE_NAMES, buildUpgradeStateMachine } from '../../runtime/upgrade/flow/upgrade-state-machine';
import { parseUpgradeRequest } from '../../runtime/upgrade/request/upgrade-request';
import type { GroupUpgradeTarget } from '../../runtime/upgrade/flow/upgrade-steps';
import { FUNCTION_ARNS } from '../support/upgrade/state-machine-runner';

/**
 * The Step Functions layout sized for 2,000 media servers x 2 groups: history events per execution
 * (quota 25,000) counted from the definition's structure, and state payloads (quota 256 KiB) measured on
 * a run of the definition under aws-local-stepfunctions.
 */

const HISTORY_QUOTA = 25_000;
const MEDIA_SERVERS = 2_000;
const GROUPS = ['blue', 'green'];

type States = Record<string, Record<string, unknown>>;

const definition = buildUpgradeStateMachine({ functionArns: FUNCTION_ARNS });
const parentStates = definition.States as States;
const childMachine = parentStates.UpgradeMediaServers.ItemProcessor as { StartAt: string; States: States };
const groupMachine = childMachine.States.UpgradeGroupsInOrder.ItemProcessor as { StartAt: string; States: States };

/**
 * History events Step Functions records when a state of this type is entered (and left): a Lambda task
 * TaskStateEntered, LambdaFunctionScheduled/Started/Succeeded, TaskStateExited; a Distributed Map in its
 * parent MapStateEntered, MapRunStarted, MapRunSucceeded, MapStateExited; an inline Map the same with
 * MapStateStarted/Succeeded, plus MapIterationStarted/Succeeded per item (counted with the item).
 */
const EVENTS_PER_STATE: Record<string, number> = { Task: 5, Pass: 2, Wait: 2, Choice: 2, Succeed: 2, Fail: 1, Map: 4 };
/** A retried Lambda attempt: LambdaFunctionFailed, then LambdaFunctionScheduled/Started again. */
const EVENTS_PER_RETRY = 3;
const EVENTS_PER_MAP_ITEM = 2;
/** ExecutionStarted and ExecutionSucceeded. */
const EVENTS_PER_EXECUTION = 2;

/**
 * The states an execution enters, in order, following the definition's transitions from `StartAt`; at
 * a Choice, `choose` picks the branch (given how often the choice was entered before).
 */
function statesEntered(machine: { StartAt: string; States: States }, choose: (name: string, visits: number, choice: Record<string, unknown>) => string): string[] {
  const entered: string[] = [];
  const visits = new Map<string, number>();
  for (let name: string | undefined = machine.StartAt; name !== undefined; ) {
    const state: Record<string, unknown> = machine.States[name];
    if (state === undefined) throw new Error(`no state ${name}`);
    entered.push(name);
    const seen: number = visits.get(name) ?? 0;
    visits.set(name, seen + 1);
    name = state.Type === 'Choice' ? choose(name, seen, state) : (state.Next as string | undefined);
  }
  return entered;
}

const eventsOf = (machine: { States: States }, names: readonly string[]) => names.reduce((sum, name) => sum + EVENTS_PER_STATE[machine.States[name].Type as string], 0);
const tasksOf = (machine: { States: States }, names: readonly string[]) => names.filter((name) => machine.States[name].Type === 'Task').length;

/** One group upgraded with `drainPolls` drain checks and `deploymentPolls` rollout checks; every task outside the polls retried `retries` times. */
function groupEvents(drainPolls: number, deploymentPolls: number, retries: number): number {
  const polls: Record<string, number> = { DrainProgress: drainPolls, DeploymentProgress: deploymentPolls };
  const firstChoice = (choice: Record<string, unknown>) => (choice.Choices as { Next: string }[])[0].Next;
  const path = statesEntered(groupMachine, (name, visits, choice) => (visits + 1 < (polls[name] ?? 0) ? (choice.Default as string) : name in polls ? firstChoice(choice) : (choice.Default as string)));
  const pollTasks = drainPolls + deploymentPolls;
  return EVENTS_PER_MAP_ITEM + eventsOf(groupMachine, path) + (tasksOf(groupMachine, path) - pollTasks) * retries * EVENTS_PER_RETRY;
}

function childEvents(drainPolls: number, deploymentPolls: number, retries: number): number {
  const path = statesEntered(childMachine, () => 'unreachable');
  return EVENTS_PER_EXECUTION + eventsOf(childMachine, path) + GROUPS.length * groupEvents(drainPolls, deploymentPolls, retries);
}

function parentEvents(retries: number): number {
  const path = statesEntered(definition as { StartAt: string; States: States }, (_name, _visits, choice) => choice.Default as string);
  return EVENTS_PER_EXECUTION + eventsOf({ States: parentStates }, path) + tasksOf({ States: parentStates }, path) * retries * EVENTS_PER_RETRY;
}

function fleet(count: number, idOf: (index: number) => string): FleetInventory {
  return parseFleetInventory({
    mediaServers: Array.from({ length: count }, (_, index) => ({
      id: idOf(index),
      esl: { host: '127.0.0.1' },
      eslPassword: { source: 'literal', value: 'ClueCon' },
      groups: GROUPS.map((id) => ({ id, deployment: { kind: 'local', runDir: '/nonexistent', instances: [{ eslPort: 1, healthPort: 2 }] } })),
    })),
  });
}

/** 100 sites of 20 media servers, named as a large MSP might (`msp-site-017/media-server-04`). */
const largeFleet = fleet(MEDIA_SERVERS, (index) => `msp-site-${String(Math.floor(index / 20) + 1).padStart(3, '0')}/media-server-${String((index % 20) + 1).padStart(2, '0')}`);
const request = parseUpgradeRequest({ image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/call-control', version: '1.5.0', groups: GROUPS, mediaServers: 'all', maxDrainSeconds: 900, concurrency: 40 });
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe('the upgrade state machine sized for 2,000 media servers x 2 groups', () => {
  it('keeps one group to 31 history events plus 9 per drain or deployment poll, the first rollout check 7 (no Wait before it)', () => {
    expect(groupEvents(1, 1, 0)).toBe(31 + 9 + 7);
    expect(groupEvents(91, 61, 0) - groupEvents(1, 1, 0)).toBe(9 * 150);
  });

  it('records 2,946 events in a child (one media server, 2 groups, 900 s drains and 10-minute rollouts at 10 s polls, every other task retried 6 times), under 25,000', () => {
    const events = childEvents(90, 60, 6);
    expect(events).toBe(2_946);
    expect(events).toBeLessThan(HISTORY_QUOTA);
    // The room a child has: 2,770 polls, 7.7 hours of drain and rollout waiting at 10 s, summed over its groups.
    const eventsPerPoll = childEvents(2, 1, 0) - childEvents(1, 1, 0);
    // One drain and one rollout poll per group.
    const withoutPolls = childEvents(1, 1, 0) - eventsPerPoll * 2;
    expect([eventsPerPoll / GROUPS.length, withoutPolls]).toEqual([9, 66]);
    expect(Math.floor((HISTORY_QUOTA - withoutPolls) / 9)).toBe(2_770);
  });

  it('records 17 events in the parent (35 with Plan retried 6 times), whatever the fleet: the media servers are child executions', () => {
    expect(parentEvents(0)).toBe(17);
    expect(parentEvents(6)).toBe(35);
    expect(parentStates.UpgradeMediaServers.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'DISTRIBUTED' } });
  });

  it('plans 2,000 media servers in well under 256 KiB, and refuses, naming the limit, a plan that would not fit', () => {
    const plan = stateMachinePlan(planUpgrade(request, largeFleet, 'upgrade-20261205T070000Z-a1b2c3', 'a1b2c3d4e5f6'));
    expect(plan.mediaServers).toHaveLength(MEDIA_SERVERS);
    expect(bytes(plan)).toBeLessThan(0.6 * STATE_PAYLOAD_LIMIT_BYTES);
    const longIds = fleet(MEDIA_SERVERS, (index) => `${'s'.repeat(58)}-${String(index).padStart(4, '0')}/${'m'.repeat(63)}`);
    expect(() => stateMachinePlan(planUpgrade(request, longIds, 'u-long', 'a1b2c3d4e5f6'))).toThrow(
      /^upgrade plan: 2000 media servers need \d+ KiB of execution state, over Step Functions' 256 KiB; upgrade them in parts \(list mediaServers\)$/,
    );
  });

  it('runs 2,000 media servers x 2 groups under aws-local-stepfunctions: every group gets its own target, every state stays under 256 KiB', async () => {
    const targets: GroupUpgradeTarget[] = [];
    const instant: Record<string, (input: unknown) => unknown> = {
      [TASK_STATE_NAMES.plan]: () => stateMachinePlan(planUpgrade(request, largeFleet, 'sized', 'a1b2c3d4e5f6')),
      [TASK_STATE_NAMES.preflight]: (input) => (targets.push((input as { target: GroupUpgradeTarget }).target), { ready: true }),
      [TASK_STATE_NAMES.checkDrain]: () => ({ drained: true, timedOut: false, remainingCalls: 0 }),
      [TASK_STATE_NAMES.checkDeployment]: () => ({ complete: true, failed: false, detail: 'done' }),
    };
    const done = () => ({});
    const handlers = Object.fromEntries(Object.values(TASK_STATE_NAMES).map((name) => [name, instant[name] ?? done]));
    const machine = new StateMachine(definition as never);
    const execution = machine.run({} as never, { context: { Execution: { Name: 'sized' } }, overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: { WaitForDrainSettle: 0, WaitForDrain: 0, WaitForDeployment: 0 } } });
    let largestOutput = 0;
    let statesEnteredLocally = 0;
    const counting = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') statesEnteredLocally++;
        if (event.type === 'StateExited') largestOutput = Math.max(largestOutput, bytes(event.state.output ?? null));
      }
    })();
    const result = (await execution.result) as { upgradeId: string; anyFailed: boolean; results: { mediaServerId: string; status: string }[] };
    await counting;

    expect(result.anyFailed).toBe(false);
    expect(result.results.map((entry) => entry.mediaServerId)).toEqual(largeFleet.mediaServers.map((mediaServer) => mediaServer.id));
    expect(new Set(result.results.map((entry) => entry.status))).toEqual(new Set(['upgraded']));
    expect(targets).toHaveLength(MEDIA_SERVERS * GROUPS.length);
    expect(targets.find((target) => target.mediaServerId === 'msp-site-017/media-server-04' && target.groupId === 'green')).toEqual({
      upgradeId: 'sized', runId: 'a1b2c3d4e5f6', mediaServerId: 'msp-site-017/media-server-04', groupId: 'green',
      image: request.image, version: '1.5.0', maxDrainSeconds: 900, onDrainTimeout: 'wait', canary: null,
    });
    expect(largestOutput).toBeLessThan(STATE_PAYLOAD_LIMIT_BYTES);
    // The same walk of the definition counts the states the local run entered: the structural count is the executed one.
    const statesPerGroup = statesEntered(groupMachine, (name, _visits, choice) => (name === 'PreflightProgress' ? (choice.Default as string) : (choice.Choices as { Next: string }[])[0].Next)).length;
    const statesPerChild = statesEntered(childMachine, () => 'unreachable').length + GROUPS.length * statesPerGroup;
    expect(statesEnteredLocally).toBe(statesEntered(definition as { StartAt: string; States: States }, (_name, _visits, choice) => choice.Default as string).length + MEDIA_SERVERS * statesPerChild);
  }, 120_000);
});

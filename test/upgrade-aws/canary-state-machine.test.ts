import { decodeRouteTable } from '../../runtime/dialplan';
import { faultyReleaseCommand } from '../../runtime/upgrade/deployers/faulty-release-command';
import { createFleetUpgradeSteps, type FleetUpgradeSteps } from '../../runtime/upgrade/steps/fleet-upgrade-steps';
import { createUpgradeTaskHandlers } from '../../runtime/upgrade/flow/upgrade-task-handlers';
import { tallyCalls } from '../../runtime/upgrade/progress/call-tally';
import type { AuditEntry } from '../../runtime/upgrade/state/upgrade-records';
import { CALL_CONTEXT } from '../support/media-server-fixture';
import { IMAGE, MEDIA_SERVER_ID, startLocalFleet, type LocalFleet } from '../support/upgrade/local-fleet-fixture';
import { runStateMachineLocally } from '../support/upgrade/state-machine-runner';
import { startStateTable, type StateTable } from '../support/upgrade/state-table-fixture';
import { FAST_STEPS, groupHealth } from '../support/upgrade/upgrade-harness';
import { VirtualTime } from '../support/upgrade/virtual-time';
import { waitFor } from '../support/wait-for';

/**
 * Canary upgrades through the generated state machine, run by aws-local-stepfunctions over the real task handlers,
 * against the simulator, real call-control processes and dynalite. The steps run on virtual time (100x) so a 120 s
 * hold passes in 1.2 s; the state machine's waits poll every 100 ms. The steps connect per step, as the Lambda
 * functions do: each canary check watches the group's calls for `canaryObserveMs` and the step is judged on the sum.
 */

const BAD_VERSION = '1.1.0-bad';
const BAD_RELEASE = faultyReleaseCommand({ version: BAD_VERSION, faults: { percent: 100, mode: 'hangup' } });
const CANARY = { steps: [5, 25], hold: { seconds: 120 }, maxHoldSeconds: 3_600, thresholds: { minCalls: 4 } };

const routeChanges = (audit: readonly AuditEntry[], groupId: string) =>
  audit.flatMap((entry) => {
    if (entry.groupId !== groupId || entry.event.type !== 'route-change') return [];
    const route = decodeRouteTable(entry.event.table).groups.find((group) => group.id === groupId);
    return [`${entry.event.action}: ${route?.state}${route?.share === undefined ? '' : ` ${route.share} %`}`];
  });
const canaryVerdicts = (audit: readonly AuditEntry[]) => audit.flatMap((entry) => (entry.event.type === 'canary' ? [`${entry.groupId} ${entry.event.verdict} ${entry.event.share}`] : []));

describe('canary upgrades on the state machine run locally over the real task handlers', () => {
  let fleet: LocalFleet;
  let table: StateTable;
  let steps: FleetUpgradeSteps;
  let time: VirtualTime;

  beforeAll(async () => {
    table = await startStateTable();
  });
  afterAll(() => table.close());
  beforeEach(async () => {
    fleet = await startLocalFleet({ command: BAD_RELEASE });
    time = new VirtualTime(100);
    // As in Lambda: a connection per step, so each canary check watches the group for a while (20 s, virtual) and stops.
    steps = createFleetUpgradeSteps({ inventory: fleet.inventory, store: table.store(time), env: fleet.env, keepConnectionsOpen: false, clock: time, sleep: time.sleep, settings: FAST_STEPS, localCommand: BAD_RELEASE });
  });
  afterEach(async () => {
    await steps.close();
    await fleet.stop();
  });

  function run(upgradeId: string, request: Record<string, unknown>) {
    const handlers = createUpgradeTaskHandlers({ steps: steps.steps, store: table.store(time), inventory: fleet.inventory, clock: time });
    return runStateMachineLocally(handlers, { image: IMAGE, mediaServers: [MEDIA_SERVER_ID], maxDrainSeconds: 600, ...request }, { executionName: upgradeId }).result;
  }

  const steadyLoad = () =>
    fleet.simulator.placeCalls({ count: 10_000, ratePerSecond: 20, destination: '15550100000', context: CALL_CONTEXT, durationMs: () => 2_500 + Math.floor(Math.random() * 1_500) });

  it('passes a good version 5 % -> 25 % -> full reference, audited, with every call completed', async () => {
    const load = steadyLoad();
    await waitFor(() => fleet.simulator.stats().activeCalls >= 40, { timeoutMs: 20_000, message: 'a steady load' });
    const result = await run('sfn-canary-pass', { version: '1.1.0', groups: ['blue'], canary: CANARY });
    load.cancel();

    expect(result).toEqual({ upgradeId: 'sfn-canary-pass', anyFailed: false, results: [{ mediaServerId: MEDIA_SERVER_ID, status: 'upgraded' }] });
    const audit = await table.store(time).audit('sfn-canary-pass');
    expect(canaryVerdicts(audit)).toEqual(['blue start 5', 'blue pass 5', 'blue start 25', 'blue pass 25']);
    expect(routeChanges(audit, 'blue')).toEqual(['drain: drained', 'share: active 5 %', 'share: active 25 %', 'restore: active']);
    expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.1.0' })]);
    expect((await fleet.routes())?.groups.map((group) => [group.id, group.state, group.share])).toEqual([
      ['blue', 'active', undefined],
      ['green', 'active', undefined],
    ]);
    const outcomes = await load.outcomes();
    expect(tallyCalls(outcomes)).toEqual({ placed: outcomes.length, completed: outcomes.length, dropped: 0, refused: 0 });
  }, 120_000);

  it('backs a failed canary out and rolls it back, fails the execution, and does not start the next group', async () => {
    const load = steadyLoad();
    await waitFor(() => fleet.simulator.stats().activeCalls >= 40, { timeoutMs: 20_000, message: 'a steady load' });
    await expect(run('sfn-canary-fail', { version: BAD_VERSION, groups: ['blue', 'green'], canary: CANARY })).rejects.toThrow(/one or more media servers failed/);
    load.cancel();

    const store = table.store(time);
    const audit = await store.audit('sfn-canary-fail');
    expect(canaryVerdicts(audit)).toEqual(['blue start 5', 'blue fail 5', 'blue backed-out 5']);
    expect(routeChanges(audit, 'blue')).toEqual(['drain: drained', 'share: active 5 %', 'share: active 0 %', 'drain: drained', 'restore: active']);
    expect(audit.find((entry) => entry.event.type === 'rollback')?.event).toMatchObject({ outcome: 'rolled-back', cause: expect.stringMatching(/^canary step 1 \(5 % of new calls\) failed/) });
    expect((await store.listGroups('sfn-canary-fail')).map((group) => [group.groupId, group.phase])).toEqual([['blue', 'rolled-back']]);
    expect(audit.filter((entry) => entry.groupId === 'green')).toEqual([]);
    expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.0.0' })]);
    expect((await fleet.routes())?.groups.map((group) => [group.id, group.state, group.share])).toEqual([
      ['blue', 'active', undefined],
      ['green', 'active', undefined],
    ]);
    // Only the calls the bad version took failed (its own hangups); every other call completed.
    const outcomes = await load.outcomes();
    const byBadVersion = (outcome: (typeof outcomes)[number]) => outcome.variables.vp_cc_group === 'blue' && outcome.hangupCause === 'NORMAL_TEMPORARY_FAILURE';
    expect(outcomes.filter(byBadVersion).length).toBeGreaterThanOrEqual(4);
    const others = outcomes.filter((outcome) => !byBadVersion(outcome));
    expect(tallyCalls(others)).toEqual({ placed: others.length, completed: others.length, dropped: 0, refused: 0 });
  }, 120_000);

  it('rejects a bad canary in the execution input in the Plan task, naming the field, before touching anything', async () => {
    const routesBefore = await fleet.routes();
    await expect(run('sfn-canary-bad', { version: '1.1.0', groups: ['blue'], canary: { steps: [25, 5], hold: { minutes: 2 } } })).rejects.toThrow(
      /upgrade request: canary\.steps: must be strictly ascending \(e\.g\. 5, 25\); canary\.hold: unknown field\(s\) "minutes"/,
    );
    expect(await table.store(time).getUpgrade('sfn-canary-bad')).toBeUndefined();
    expect(await fleet.routes()).toEqual(routesBefore);
  });

  it('rejects a task input whose canary is not a policy, naming the field', async () => {
    const handlers = createUpgradeTaskHandlers({ steps: steps.steps, store: table.store(time), inventory: fleet.inventory, clock: time });
    const target = { upgradeId: 'u', mediaServerId: MEDIA_SERVER_ID, groupId: 'blue', image: IMAGE, version: '1.1.0', maxDrainSeconds: 60, onDrainTimeout: 'wait', canary: { steps: [5], hold: {} } };
    await expect(Promise.resolve().then(() => handlers.checkCanary(target))).rejects.toThrow(/^group upgrade target: canary\.hold: must give seconds, calls or both$/);
  });
});

import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { spawn } from 'child_process';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { createInterface } from 'readline';
import { encodeRouteTable } from '../../runtime/dialplan';
import { tallyCalls } from '../../runtime/upgrade/progress/call-tally';
import { systemClock } from '../../runtime/shared/clock';
import type { GroupUpgradePhase } from '../../runtime/upgrade/flow/upgrade-steps';
import type { UpgradeStateStore } from '../../runtime/upgrade/state/upgrade-state-store';
import { referenceCallControlCommand } from '../../runtime/upgrade/deployers/local-process-deployer';
import type { CallHandle } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { CALL_CONTEXT } from '../support/media-server-fixture';
import { IMAGE, MEDIA_SERVER_ID, startLocalFleet, type LocalFleet } from '../support/upgrade/local-fleet-fixture';
import { startStateTable, type StateTable } from '../support/upgrade/state-table-fixture';
import { groupHealth, upgradeFleet } from '../support/upgrade/upgrade-harness';
import { waitFor } from '../support/wait-for';

const ORCHESTRATOR = path.join(__dirname, '../support/upgrade/orchestrator-process.ts');
const UNHEALTHY = path.join(__dirname, '../support/upgrade/unhealthy-call-control.ts');
const key = (upgradeId: string, groupId: string) => ({ upgradeId, mediaServerId: MEDIA_SERVER_ID, groupId });

/**
 * The run's store, where `other` (another run of the upgrade) makes the same move of a group to `phase` just before
 * this run does: a write between this run's read of the group and its conditional write, which only a race produces.
 */
function anotherRunMovesFirst(store: UpgradeStateStore, other: UpgradeStateStore, phase: GroupUpgradePhase): UpgradeStateStore {
  let moved = false;
  const updateGroup: UpgradeStateStore['updateGroup'] = async (group, from, changes, to) => {
    if (to === phase && !moved) {
      moved = true;
      await other.updateGroup(group, from, changes, to);
    }
    return store.updateGroup(group, from, changes, to);
  };
  return Object.assign(Object.create(store) as UpgradeStateStore, { updateGroup });
}

describe('upgrade faults (simulator + call-control processes + dynalite)', () => {
  let fleet: LocalFleet;
  let table: StateTable;

  beforeAll(async () => {
    table = await startStateTable();
  });
  afterAll(() => table.close());
  beforeEach(async () => {
    fleet = await startLocalFleet();
  });
  afterEach(() => fleet.stop());

  const steadyLoad = (ratePerSecond: number, minMs: number, maxMs: number) =>
    fleet.simulator.placeCalls({
      count: 10_000,
      ratePerSecond,
      destination: '15550100000',
      context: CALL_CONTEXT,
      durationMs: () => minMs + Math.floor(Math.random() * (maxMs - minMs)),
    });

  it('an orchestrator killed mid-drain and started again resumes where it stopped, with the same result', async () => {
    const inventoryFile = path.join(fleet.runDir, 'inventory.json');
    writeFileSync(inventoryFile, JSON.stringify(fleet.inventory));
    const args = [
      '-r',
      require.resolve('ts-node/register/transpile-only'),
      ORCHESTRATOR,
      '--inventory',
      inventoryFile,
      '--media-server',
      MEDIA_SERVER_ID,
      '--group',
      'blue',
      '--group',
      'green',
      '--image',
      IMAGE,
      '--version',
      '1.1.0',
      '--upgrade-id',
      'killed-once',
      '--dynamodb-endpoint',
      table.endpoint,
      '--table',
      table.tableName,
      '--json',
      // The killed run's lease must expire before the restarted run takes over: short, yet longer than a restart.
      '--lease-ttl-ms',
      '6000',
    ];
    const orchestrator = () => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      const lines: string[] = [];
      createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { child, lines, exited };
    };
    const store = table.store(systemClock);
    const load = steadyLoad(10, 1_500, 3_000);

    const first = orchestrator();
    await waitFor(async () => (await store.getGroup(key('killed-once', 'blue')))?.drainWrittenAt !== undefined, { timeoutMs: 30_000, message: 'blue drain written' });
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await fleet.routes())?.groups.map((group) => group.state)).toEqual(['drained', 'active']);

    const second = orchestrator();
    expect(await second.exited).toBe(0);
    load.cancel();
    expect(second.lines.some((line) => line.includes('waiting for the lease of an earlier run of upgrade killed-once'))).toBe(true);
    const summary = JSON.parse(second.lines[second.lines.length - 1]);
    expect(summary).toMatchObject({ type: 'summary', upgradeId: 'killed-once', status: 'succeeded' });
    expect(summary.mediaServers[0].groups.map((group: { phase: string }) => group.phase)).toEqual(['restored', 'restored']);

    const routeChanges = (await store.audit('killed-once')).flatMap((entry) => (entry.event.type === 'route-change' ? [`${entry.event.action} ${entry.groupId}`] : []));
    expect(routeChanges).toEqual(['drain blue', 'restore blue', 'drain green', 'restore green']);
    expect(tallyCalls(await load.outcomes())).toMatchObject({ dropped: 0, refused: 0 });
    expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.1.0' })]);
    expect(await groupHealth(fleet, 'green')).toEqual([expect.objectContaining({ version: '1.1.0' })]);
  });

  it('a new version that fails its health check is rolled back: previous version, route restored, calls unaffected', async () => {
    const load = steadyLoad(10, 500, 1_500);
    const command = (release: { version: string }) =>
      release.version === '1.1.0-broken'
        ? { executable: process.execPath, args: ['-r', require.resolve('ts-node/register/transpile-only'), UNHEALTHY] }
        : referenceCallControlCommand();
    const { summary, store } = await upgradeFleet(fleet, table, { upgradeId: 'broken-health', request: { version: '1.1.0-broken' }, command });
    load.cancel();

    expect(summary.status).toBe('failed');
    expect(summary.mediaServers[0].groups).toEqual([
      expect.objectContaining({
        groupId: 'blue',
        phase: 'rolled-back',
        error: expect.objectContaining({ code: 'VerificationFailed', message: expect.stringContaining('not accepting calls') }),
      }),
      expect.objectContaining({ groupId: 'green', phase: 'pending' }),
    ]);
    expect((await fleet.routes())?.groups.map((group) => [group.id, group.state])).toEqual([
      ['blue', 'active'],
      ['green', 'active'],
    ]);
    expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.0.0', acceptingCalls: true })]);
    const trail = (await store.audit('broken-health')).map((entry) => entry.event);
    expect(trail.filter((event) => event.type === 'health').map((event) => event.type === 'health' && event.ok)).toEqual([false, true]);
    expect(trail.filter((event) => event.type === 'deploy').map((event) => event.type === 'deploy' && `${event.version} ${event.status}`)).toEqual([
      '1.1.0-broken started',
      '1.1.0-broken complete',
      '1.0.0 started',
      '1.0.0 complete',
    ]);
    expect(trail[trail.length - 1]).toMatchObject({ type: 'rollback', outcome: 'rolled-back' });
    expect(tallyCalls(await load.outcomes())).toMatchObject({ dropped: 0, refused: 0 });
  });

  it('a FreeSWITCH restart mid-drain keeps the route table as the orchestrator last wrote it, and the upgrade completes', async () => {
    const store = table.store(systemClock);
    let afterRestart: CallHandle[] = [];
    const upgrade = upgradeFleet(fleet, table, { upgradeId: 'switch-restart', request: { groups: ['blue'] } });
    const early = fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: 60_000 });
    await waitFor(async () => (await store.getGroup(key('switch-restart', 'blue')))?.drainWrittenAt !== undefined, { timeoutMs: 15_000, message: 'blue drain written' });

    await fleet.simulator.restart();
    const written = (await store.audit('switch-restart')).flatMap((entry) => (entry.event.type === 'route-change' ? [entry.event.table] : []));
    const routes = await fleet.routes();
    expect(routes && encodeRouteTable(routes)).toBe(written[written.length - 1]);
    afterRestart = Array.from({ length: 3 }, () => fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: 500 }));

    const { summary } = await upgrade;
    expect(summary.status).toBe('succeeded');
    expect((await early.outcome).hangupCause).not.toBe('NORMAL_CLEARING');
    const outcomes = await Promise.all(afterRestart.map((call) => call.outcome));
    expect(outcomes.map((outcome) => [outcome.variables.vp_cc_group, outcome.hangupCause])).toEqual(Array(3).fill(['green', 'NORMAL_CLEARING']));
    expect((await fleet.routes())?.groups.map((group) => group.state)).toEqual(['active', 'active']);
    expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.1.0' })]);
  });

  it('refuses a second upgrade of a media server another upgrade holds, changing nothing', async () => {
    const store = table.store(systemClock);
    const held = Array.from({ length: 2 }, () => fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: 3_000 }));
    await waitFor(() => fleet.simulator.stats().activeCalls === 2, { message: 'calls up' });
    const first = upgradeFleet(fleet, table, { upgradeId: 'holder', request: { groups: ['blue', 'green'] } });
    await waitFor(async () => (await store.getGroup(key('holder', 'blue')))?.drainWrittenAt !== undefined, { timeoutMs: 15_000, message: 'blue drain written' });
    const routesBefore = await fleet.routes();

    for (const groups of [['blue'], ['green']]) {
      const upgradeId = `intruder-${groups[0]}`;
      const { summary } = await upgradeFleet(fleet, table, { upgradeId, request: { groups, version: '2.0.0' } });
      expect(summary.status).toBe('failed');
      expect(summary.mediaServers[0].groups).toEqual([
        expect.objectContaining({
          phase: 'pending',
          error: expect.objectContaining({ code: 'LeaseHeld', message: expect.stringContaining('is being upgraded by upgrade holder') }),
        }),
      ]);
      expect(await store.listGroups(upgradeId)).toEqual([]);
      expect(await store.audit(upgradeId)).toEqual([]);
    }
    expect(await fleet.routes()).toEqual(routesBefore);

    expect((await first).summary.status).toBe('succeeded');
    expect(tallyCalls(await Promise.all(held.map((call) => call.outcome)))).toMatchObject({ completed: 2, dropped: 0 });
  });

  it('refuses a second live run of the same upgrade id, which neither rolls back nor touches the routes', async () => {
    const store = table.store(systemClock);
    const shortLease = { leaseTtlMs: 2_000 };
    const held = fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: 6_000 });
    await waitFor(() => fleet.simulator.stats().activeCalls === 1, { message: 'call up' });
    const first = upgradeFleet(fleet, table, { upgradeId: 'resumed-twice', settings: shortLease });
    await waitFor(async () => (await store.getGroup(key('resumed-twice', 'blue')))?.drainWrittenAt !== undefined, { timeoutMs: 15_000, message: 'blue drain written' });

    const second = await upgradeFleet(fleet, table, { upgradeId: 'resumed-twice', settings: shortLease });
    expect(second.summary.status).toBe('failed');
    expect(second.summary.mediaServers[0].groups[0]).toMatchObject({
      groupId: 'blue',
      error: { code: 'LeaseHeld', message: expect.stringContaining('upgrade resumed-twice is still running elsewhere') },
    });
    expect(second.progress.map((event) => event.step)).not.toContain('rollback');

    expect((await first).summary.status).toBe('succeeded');
    const routeChanges = (await store.audit('resumed-twice')).flatMap((entry) => (entry.event.type === 'route-change' ? [`${entry.event.action} ${entry.groupId}`] : []));
    expect(routeChanges).toEqual(['drain blue', 'restore blue', 'drain green', 'restore green']);
    expect(tallyCalls([await held.outcome])).toMatchObject({ completed: 1, dropped: 0 });
  });

  describe('races with another run (a state table of their own: the lease outlives them)', () => {
    let raceTable: StateTable;
    beforeEach(async () => {
      raceTable = await startStateTable();
    });
    afterEach(() => raceTable.close());

    it('stops without rolling back when another upgrade took the lease mid-drain (this run\'s had lapsed)', async () => {
      const store = raceTable.store(systemClock);
      const held = fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: 5_000 });
      await waitFor(() => fleet.simulator.stats().activeCalls === 1, { message: 'call up' });
      // Renewed every 500 ms while blue drains.
      const run = upgradeFleet(fleet, raceTable, { upgradeId: 'lease-lost', settings: { leaseTtlMs: 2_000 } });
      await waitFor(async () => (await store.getGroup(key('lease-lost', 'blue')))?.drainWrittenAt !== undefined, { timeoutMs: 15_000, message: 'blue drain written' });

      const takenUntil = Date.now() + 60_000;
      await raceTable.client.send(
        new UpdateCommand({
          TableName: raceTable.tableName,
          Key: { pk: `lease#${MEDIA_SERVER_ID}`, sk: 'lease' },
          UpdateExpression: 'SET #owner = :owner, leaseUntil = :until',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': 'other', ':until': takenUntil },
        }),
      );

      const { summary, progress } = await run;
      expect(summary.status).toBe('failed');
      expect(summary.mediaServers[0].groups).toEqual([
        expect.objectContaining({
          groupId: 'blue',
          phase: 'draining',
          error: {
            code: 'LeaseHeld',
            message: `media server ${MEDIA_SERVER_ID} is being upgraded by upgrade other (group blue) until ${new Date(takenUntil).toISOString()}; stopped without rolling back`,
          },
        }),
        expect.objectContaining({ groupId: 'green', phase: 'pending' }),
      ]);
      expect(progress.map((event) => event.step)).not.toContain('rollback');
      // Left as the holder of the lease finds it: blue drained on its old release, the lease still the holder's.
      expect((await fleet.routes())?.groups.map((group) => group.state)).toEqual(['drained', 'active']);
      expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.0.0' })]);
      expect(await store.getLease(MEDIA_SERVER_ID)).toMatchObject({ owner: 'other', leaseUntil: takenUntil });
      expect(tallyCalls([await held.outcome])).toMatchObject({ completed: 1, dropped: 0 });
    });

    it('stops without rolling back when another run of the upgrade moved the group on first', async () => {
      const other = raceTable.store(systemClock);
      const { summary, progress, store } = await upgradeFleet(fleet, raceTable, { upgradeId: 'phase-lost', store: (own) => anotherRunMovesFirst(own, other, 'deploying') });

      expect(summary.status).toBe('failed');
      expect(summary.mediaServers[0].groups).toEqual([
        expect.objectContaining({
          groupId: 'blue',
          phase: 'deploying',
          error: {
            code: 'LeaseHeld',
            message: expect.stringMatching(/expected phase drained, found deploying: another run of upgrade phase-lost changed the group; stopped without rolling back$/),
          },
        }),
        expect.objectContaining({ groupId: 'green', phase: 'pending' }),
      ]);
      expect(progress.map((event) => event.step)).not.toContain('rollback');
      // Nothing deployed or restored by this run: the run that moved the group on is in charge of it.
      expect((await fleet.routes())?.groups.map((group) => group.state)).toEqual(['drained', 'active']);
      expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.0.0' })]);
      expect((await store.audit('phase-lost')).map((entry) => entry.event.type)).not.toContain('deploy');
    });
  });
});

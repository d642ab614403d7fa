import { MediaServerClient } from '../../runtime/media-server';
import { localRouteTable } from '../../runtime/upgrade/inventory/local-fleet';
import { createFleetUpgradeSteps, type FleetUpgradeSteps } from '../../runtime/upgrade/steps/fleet-upgrade-steps';
import type { GroupUpgradeTarget } from '../../runtime/upgrade/flow/upgrade-steps';
import type { DynamoUpgradeStateStore } from '../../runtime/upgrade/state/upgrade-state-store';
import { CALL_CONTEXT, eslOptions } from '../support/media-server-fixture';
import { IMAGE, MEDIA_SERVER_ID, startLocalFleet, type LocalFleet } from '../support/upgrade/local-fleet-fixture';
import { startStateTable, type StateTable } from '../support/upgrade/state-table-fixture';
import { waitFor } from '../support/wait-for';

class ManualClock {
  ms = Date.now();
  now(): number {
    return this.ms;
  }
}

describe('group upgrade steps, one at a time (simulator + call-control processes + dynalite)', () => {
  let fleet: LocalFleet;
  let table: StateTable;
  let clock: ManualClock;
  let store: DynamoUpgradeStateStore;
  let fleetSteps: FleetUpgradeSteps;
  let ids = 0;

  beforeAll(async () => {
    [fleet, table] = await Promise.all([startLocalFleet(), startStateTable()]);
  });
  afterAll(async () => {
    await Promise.all([fleet?.stop(), table?.close()]);
  });
  beforeEach(async () => {
    clock = new ManualClock();
    store = table.store(clock);
    fleetSteps = createFleetUpgradeSteps({
      inventory: fleet.inventory,
      store,
      env: process.env,
      keepConnectionsOpen: false,
      clock,
      settings: { drainSettleMs: 2_000, verifyAttempts: 1 },
    });
    await setRoutes([
      ['blue', 'active'],
      ['green', 'active'],
    ]);
  });

  const steps = () => fleetSteps.steps;
  const target = (fields: Partial<GroupUpgradeTarget> = {}): GroupUpgradeTarget => ({
    upgradeId: `steps-${++ids}`,
    mediaServerId: MEDIA_SERVER_ID,
    groupId: 'blue',
    image: IMAGE,
    version: '1.0.1',
    maxDrainSeconds: 60,
    onDrainTimeout: 'force',
    ...fields,
  });

  async function withClient<T>(work: (client: MediaServerClient) => Promise<T>): Promise<T> {
    const client = await MediaServerClient.connect(eslOptions(fleet.simulator));
    try {
      return await work(client);
    } finally {
      await client.close();
    }
  }

  /** The fleet's own groups, in the given states and order. */
  async function setRoutes(states: [string, 'active' | 'drained'][]): Promise<void> {
    const all = localRouteTable(fleet.inventory.mediaServers[0]).groups;
    await withClient((client) => client.setRoutes({ groups: states.map(([id, state]) => ({ ...all.find((group) => group.id === id)!, state })) }));
  }

  it('preflight refuses, changing nothing, when no other group could take the calls', async () => {
    await setRoutes([
      ['blue', 'active'],
      ['green', 'drained'],
    ]);
    const refused = target();
    await expect(steps().preflight(refused)).rejects.toMatchObject({
      code: 'PreflightFailed',
      message: 'group blue of local/ms-1: no other active group: draining it would leave no routable group',
    });
    expect(await store.getGroup(refused)).toMatchObject({ phase: 'failed' });
    expect(await store.getLease(MEDIA_SERVER_ID)).toBeUndefined();
    expect((await fleet.routes())?.groups.map((group) => group.state)).toEqual(['active', 'drained']);
  });

  it('preflight refuses a group missing from the route table, or already drained by someone else', async () => {
    await setRoutes([['green', 'active']]);
    await expect(steps().preflight(target())).rejects.toThrow("not in the media server's route table (groups: green)");
    await setRoutes([
      ['blue', 'drained'],
      ['green', 'active'],
    ]);
    await expect(steps().preflight(target())).rejects.toThrow('already drained in the route table (by someone else)');
  });

  it('preflight refuses when the other active group is not healthy', async () => {
    const green = fleet.inventory.mediaServers[0].groups[1].deployment;
    if (green.kind !== 'local') throw new Error('local fleet expected');
    const brokenInventory = {
      mediaServers: [
        {
          ...fleet.inventory.mediaServers[0],
          groups: [fleet.inventory.mediaServers[0].groups[0], { id: 'green', deployment: { ...green, instances: [{ eslPort: green.instances[0].eslPort, healthPort: 1 }] } }],
        },
      ],
    };
    const broken = createFleetUpgradeSteps({ inventory: brokenInventory, store, env: process.env, keepConnectionsOpen: false, clock });
    await expect(broken.steps.preflight(target())).rejects.toMatchObject({
      code: 'PreflightFailed',
      message: expect.stringMatching(/no other active group is healthy \(green: GET http:\/\/127\.0\.0\.1:1\/health failed/),
    });
  });

  it('rejects targets outside the inventory and steps run out of order', async () => {
    await expect(steps().preflight(target({ mediaServerId: 'west/ms-9' }))).rejects.toMatchObject({
      code: 'InvalidInput',
      message: 'media server "west/ms-9" is not in the fleet inventory',
    });
    await expect(steps().preflight(target({ groupId: 'red' }))).rejects.toThrow('media server local/ms-1 has no group "red" in the fleet inventory (groups: blue, green)');
    await expect(steps().drain(target())).rejects.toThrow('has no state in upgrade');
    await expect(steps().checkDrain({ ...target(), maxDrainSeconds: -1 })).rejects.toThrow(
      'group upgrade target: maxDrainSeconds: must be a whole number of seconds in 1..86400 (got -1)',
    );
  });

  it('drains once, reports drained only after the settle delay, and refuses to force calls before the limit', async () => {
    const upgrade = target();
    await steps().preflight(upgrade);
    expect(await store.getGroup(upgrade)).toMatchObject({ phase: 'preflight-passed', previousImage: IMAGE, previousVersion: '1.0.0' });
    const call = fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: 60_000 });
    await waitFor(() => fleet.simulator.channels().some((channel) => channel.uuid === call.uuid && channel.answered), { message: 'call on blue' });

    await steps().drain(upgrade);
    await steps().drain(upgrade);
    const drains = (await store.audit(upgrade.upgradeId)).filter((entry) => entry.event.type === 'route-change');
    expect(drains).toHaveLength(1);
    expect((await fleet.routes())?.groups.map((group) => group.state)).toEqual(['drained', 'active']);

    expect(await steps().checkDrain(upgrade)).toEqual({ remainingCalls: 1, elapsedSeconds: 0, drained: false, timedOut: false });
    await expect(steps().forceEndCalls(upgrade)).rejects.toThrow('only 0 of 60 drain seconds have passed: refusing to hang up live calls');
    await expect(steps().forceEndCalls({ ...upgrade, onDrainTimeout: 'wait' })).rejects.toThrow('onDrainTimeout is wait, not force');
    expect(fleet.simulator.channels().some((channel) => channel.uuid === call.uuid)).toBe(true);

    fleet.simulator.killCall(call.uuid);
    await waitFor(() => fleet.simulator.stats().activeCalls === 0, { message: 'call ended' });
    clock.ms += 1_000;
    expect(await steps().checkDrain(upgrade)).toEqual({ remainingCalls: 0, elapsedSeconds: 1, drained: false, timedOut: false, settlesInMs: 1_000 });
    clock.ms += 1_000;
    expect(await steps().checkDrain(upgrade)).toEqual({ remainingCalls: 0, elapsedSeconds: 2, drained: true, timedOut: false });
    expect((await store.getGroup(upgrade))?.phase).toBe('drained');

    expect(await steps().rollback(upgrade, 'operator cancelled')).toBe('rolled-back');
    expect((await fleet.routes())?.groups.map((group) => group.state)).toEqual(['active', 'active']);
    expect(await store.getGroup(upgrade)).toMatchObject({ phase: 'rolled-back', failure: 'operator cancelled (back on 1.0.0, the route was restored)' });
    expect(await steps().rollback(upgrade, 'again')).toBe('rolled-back');
    await expect(steps().deploy(upgrade)).rejects.toThrow('already ended rolled-back');
    expect(await store.getLease(MEDIA_SERVER_ID)).toBeUndefined();
  });

  it("preflight waits out the lease an earlier run of the upgrade left, and refuses a run whose lease is still renewed", async () => {
    const first = target({ runId: 'one' });
    const second = { ...first, runId: 'two' };
    await steps().preflight(first);
    await steps().drain(first);
    const held = await store.getLease(MEDIA_SERVER_ID);
    expect(held).toMatchObject({ owner: `${first.upgradeId} run one` });

    const wait = await steps().preflight(second);
    expect(wait).toEqual({ ready: false, retryAt: new Date(held!.leaseUntil + 1_000).toISOString(), earlierRun: { owner: held!.owner, leaseUntil: held!.leaseUntil } });
    await expect(steps().preflight(target({ groupId: 'green' }))).rejects.toMatchObject({ code: 'LeaseHeld' });

    // The first run is alive: its next step renews the lease (and finds the drain done), and the second run is refused.
    clock.ms += 60_000;
    await steps().checkDrain(first);
    const renewed = await store.getLease(MEDIA_SERVER_ID);
    expect(renewed!.leaseUntil).toBeGreaterThan(held!.leaseUntil);
    await expect(steps().preflight(second, wait.ready ? null : wait.earlierRun)).rejects.toThrow(`upgrade ${first.upgradeId} is still running elsewhere`);

    // Once the lease it saw expires unrenewed, the second run takes over where the first stopped.
    clock.ms = renewed!.leaseUntil + 1_000;
    expect(await steps().preflight(second, { owner: renewed!.owner, leaseUntil: renewed!.leaseUntil })).toEqual({ ready: true });
    expect(await store.getLease(MEDIA_SERVER_ID)).toMatchObject({ owner: `${first.upgradeId} run two` });
    expect((await store.getGroup(first))?.phase).toBe('drained');
    expect(await steps().rollback(second, 'test over')).toBe('rolled-back');
  });

  it('counts a drain as timed out once maxDrainSeconds pass with calls left', async () => {
    const upgrade = target({ maxDrainSeconds: 300 });
    await steps().preflight(upgrade);
    const call = fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: 60_000 });
    await waitFor(() => fleet.simulator.channels().some((channel) => channel.uuid === call.uuid && channel.answered), { message: 'call on blue' });
    await steps().drain(upgrade);
    clock.ms += 300_000;
    expect(await steps().checkDrain(upgrade)).toEqual({ remainingCalls: 1, elapsedSeconds: 300, drained: false, timedOut: true });
    expect(await steps().forceEndCalls(upgrade)).toBe(1);
    expect((await call.outcome).hangupCause).toBe('MANAGER_REQUEST');
    expect(await steps().rollback(upgrade, 'test over')).toBe('rolled-back');
  });
});

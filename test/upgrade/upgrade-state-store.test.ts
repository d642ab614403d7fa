import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { CorruptStateError, PhaseConflictError, type DynamoUpgradeStateStore } from '../../runtime/upgrade/state/upgrade-state-store';
import { startStateTable, type StateTable } from '../support/upgrade/state-table-fixture';

class ManualClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

const key = { upgradeId: 'u-1', mediaServerId: 'west/ms-1', groupId: 'blue' };

describe('upgrade state store on dynalite', () => {
  let table: StateTable;
  let clock: ManualClock;
  let store: DynamoUpgradeStateStore;

  beforeAll(async () => {
    table = await startStateTable();
  });
  afterAll(() => table.close());
  beforeEach(() => {
    clock = new ManualClock(1_700_000_000_000);
    store = table.store(clock);
  });

  it('moves a group between phases only from the expected phase', async () => {
    const group = { ...key, upgradeId: 'u-phases' };
    const created = await store.ensureGroup(group, { image: 'repo/cc', version: '2.0.0' });
    expect(created).toMatchObject({ phase: 'pending', image: 'repo/cc', version: '2.0.0', createdAt: clock.ms });
    expect(await store.ensureGroup(group, { image: 'other', version: '9' })).toEqual(created);

    clock.ms += 1000;
    const draining = await store.updateGroup(group, ['pending'], { drainStartedAt: clock.ms }, 'draining');
    expect(draining).toMatchObject({ phase: 'draining', drainStartedAt: clock.ms, updatedAt: clock.ms });

    const conflict = store.updateGroup(group, ['pending'], {}, 'draining');
    await expect(conflict).rejects.toBeInstanceOf(PhaseConflictError);
    await expect(conflict).rejects.toThrow('expected phase pending, found draining');
    await expect(store.updateGroup({ ...group, groupId: 'red' }, ['pending'], {}, 'draining')).rejects.toThrow('found no record');

    expect(await store.updateGroup(group, ['draining', 'drained'], { lastCount: 3 })).toMatchObject({ phase: 'draining', lastCount: 3 });
    expect((await store.listGroups('u-phases')).map((record) => record.groupId)).toEqual(['blue']);
  });

  it('leases a media server to one upgrade at a time, renewable by its owner, taken over once expired', async () => {
    await store.acquireLease('west/ms-2', 'u-a', 'blue', 60_000);
    await store.acquireLease('west/ms-2', 'u-a', 'green', 60_000);
    await expect(store.acquireLease('west/ms-2', 'u-b', 'green', 60_000)).rejects.toMatchObject({
      code: 'LeaseHeld',
      message: `media server west/ms-2 is being upgraded by upgrade u-a (group green) until ${new Date(clock.ms + 60_000).toISOString()}`,
    });

    clock.ms += 60_001;
    await store.acquireLease('west/ms-2', 'u-b', 'blue', 60_000);
    expect(await store.getLease('west/ms-2')).toMatchObject({ owner: 'u-b', groupId: 'blue' });

    await store.releaseLease('west/ms-2', 'u-a');
    expect(await store.getLease('west/ms-2')).toMatchObject({ owner: 'u-b' });
    await store.releaseLease('west/ms-2', 'u-b');
    expect(await store.getLease('west/ms-2')).toBeUndefined();
  });

  it('keeps one audit item per event, in time order, filterable by media server and group', async () => {
    const upgradeId = 'u-audit';
    await store.appendAudit({ ...key, upgradeId }, { type: 'drain-count', remaining: 3, elapsedSeconds: 0, timedOut: false });
    clock.ms += 5;
    await store.appendAudit({ ...key, upgradeId, groupId: 'green' }, { type: 'phase', from: 'pending', to: 'preflight-passed' });
    // Same millisecond: the writer's order is kept.
    await store.appendAudit({ ...key, upgradeId }, { type: 'drain-count', remaining: 0, elapsedSeconds: 0.1, timedOut: false });
    const all = await store.audit(upgradeId);
    expect(all.map((entry) => [entry.groupId, entry.event.type])).toEqual([
      ['blue', 'drain-count'],
      ['green', 'phase'],
      ['blue', 'drain-count'],
    ]);
    expect((await store.audit(upgradeId, { mediaServerId: 'west/ms-1', groupId: 'blue' })).map((entry) => entry.at)).toEqual([clock.ms - 5, clock.ms]);
  });

  it('stores the request of an upgrade once', async () => {
    expect(await store.ensureUpgrade('u-req', '{"a":1}')).toEqual({ upgradeId: 'u-req', request: '{"a":1}', createdAt: clock.ms });
    expect((await store.ensureUpgrade('u-req', '{"a":2}')).request).toBe('{"a":1}');
  });

  it('refuses an item that does not have the stored shape', async () => {
    await table.client.send(new PutCommand({ TableName: table.tableName, Item: { pk: 'upgrade#u-bad', sk: 'group#west/ms-1#blue', phase: 'exploded' } }));
    const read = store.getGroup({ ...key, upgradeId: 'u-bad' });
    await expect(read).rejects.toBeInstanceOf(CorruptStateError);
    await expect(read).rejects.toThrow(/group blue of west\/ms-1 in upgrade u-bad is malformed: .*phase/);
  });
});

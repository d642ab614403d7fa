import { parseFleetInventory } from '../../runtime/upgrade/inventory/fleet-inventory';
import { planUpgrade } from '../../runtime/upgrade/flow/upgrade-plan';
import { parseUpgradeRequest } from '../../runtime/upgrade/request/upgrade-request';

const group = (id: string) => ({ id, deployment: { kind: 'ecs', region: 'us-east-1', cluster: 'c', service: id } });
const mediaServer = (id: string, groups: string[]) => ({ id, esl: { host: '10.0.0.1' }, eslPassword: { source: 'literal', value: 'pw' }, groups: groups.map(group) });
const inventory = parseFleetInventory({
  mediaServers: [mediaServer('west/ms-1', ['blue', 'green']), mediaServer('west/ms-2', ['blue', 'green', 'red']), mediaServer('east/ms-1', ['red', 'green'])],
});
const request = (fields: Record<string, unknown>) => parseUpgradeRequest({ image: 'repo/cc', version: '2.0.0', groups: ['blue', 'green'], mediaServers: 'all', ...fields });

describe('upgrade plan', () => {
  it('lists each media server with its groups in the requested (blue-green) order', () => {
    const plan = planUpgrade(request({ groups: ['green', 'blue'], mediaServers: ['west/ms-2', 'west/ms-1'], concurrency: 3 }), inventory, 'u-1');
    expect(plan.concurrency).toBe(3);
    expect(plan.mediaServers.map((entry) => [entry.mediaServerId, entry.targets.map((target) => target.groupId)])).toEqual([
      ['west/ms-2', ['green', 'blue']],
      ['west/ms-1', ['green', 'blue']],
    ]);
    expect(plan.mediaServers[0].targets[0]).toEqual({
      upgradeId: 'u-1',
      mediaServerId: 'west/ms-2',
      groupId: 'green',
      image: 'repo/cc',
      version: '2.0.0',
      maxDrainSeconds: 900,
      onDrainTimeout: 'wait',
    });
  });

  it('with "all", takes the requested groups each media server has', () => {
    const plan = planUpgrade(request({ groups: ['blue', 'red'] }), inventory, 'u-1');
    expect(plan.mediaServers.map((entry) => [entry.mediaServerId, entry.targets.map((target) => target.groupId)])).toEqual([
      ['west/ms-1', ['blue']],
      ['west/ms-2', ['blue', 'red']],
      ['east/ms-1', ['red']],
    ]);
  });

  it('reports every problem: unknown media servers, missing groups, groups nobody has', () => {
    expect(() => planUpgrade(request({ mediaServers: ['west/ms-9', 'east/ms-1'] }), inventory, 'u-1')).toThrow(
      'upgrade plan: unknown media server "west/ms-9" (inventory: west/ms-1, west/ms-2, east/ms-1); media server east/ms-1 has no group "blue" (groups: red, green)',
    );
    expect(() => planUpgrade(request({ groups: ['blue', 'purple'] }), inventory, 'u-1')).toThrow('upgrade plan: no media server has group "purple"');
  });

  it('refuses a media server with a single group: draining it would leave nothing to route to', () => {
    const lonely = parseFleetInventory({ mediaServers: [mediaServer('west/ms-3', ['blue'])] });
    expect(() => planUpgrade(request({ groups: ['blue'] }), lonely, 'u-1')).toThrow('media server west/ms-3 has only group "blue": draining it would leave no routable group');
  });
});

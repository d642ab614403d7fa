import {
  activeGroups,
  assertRoutable,
  DialplanError,
  drainGroup,
  firstChoiceShares,
  parseRouteSpec,
  parseRouteTable,
  restoreGroup,
  type RouteTable,
  setGroupShare,
  tryOrder,
} from '../../runtime/dialplan';

const table = (...specs: string[]): RouteTable => ({ groups: specs.map(parseRouteSpec) });
const ids = (routes: RouteTable) => activeGroups(routes).map((group) => group.id);

describe('parseRouteSpec', () => {
  it('reads ID=HOST:PORT|HOST:PORT@WEIGHT as an active group', () => {
    expect(parseRouteSpec('blue=10.0.0.1:8084|CC-1.Example.com:9000@50')).toEqual({
      id: 'blue',
      endpoints: [
        { host: '10.0.0.1', port: 8084 },
        { host: 'cc-1.example.com', port: 9000 },
      ],
      weight: 50,
      state: 'active',
    });
  });

  it('leaves the weight out when none is given', () => {
    expect(parseRouteSpec('green=cc.internal:8084')).not.toHaveProperty('weight');
  });

  it.each([
    ['blue', "route spec 'blue': expected ID=HOST:PORT[|HOST:PORT...][@WEIGHT]"],
    ['blue=', "route spec 'blue=': endpoint '' must be HOST:PORT"],
    ['blue=10.0.0.1', "endpoint '10.0.0.1' must be HOST:PORT"],
    ['blue=10.0.0.1:http', "port 'http' is not a number"],
    ['blue=10.0.0.1:0', 'endpoints[0].port: 0 is not in 1..65535'],
    ['blue=a.example:1|b.example:65536', 'endpoints[1].port: 65536 is not in 1..65535'],
    ['blue=300.0.0.1:8084', "endpoints[0].host: '300.0.0.1' is not a hostname or an IPv4 address"],
    ['blue=cc_1.example:8084', "endpoints[0].host: 'cc_1.example' is not a hostname or an IPv4 address"],
    ['blue=a:1|b:2|c:3|d:4|e:5', 'endpoints: at most 4 endpoints per group'],
    ['Blue=10.0.0.1:8084', "id: 'Blue' must be lowercase letters"],
    ['=10.0.0.1:8084', "id: '' must be lowercase letters"],
    ['blue=10.0.0.1:8084@heavy', "weight 'heavy' is not a number"],
    ['blue=10.0.0.1:8084@1001', 'weight: 1001 is not in 1..1000'],
    ['blue=10.0.0.1:8084@5@6', "more than one '@'"],
  ])('rejects %s, naming the bad part', (spec, message) => {
    expect(() => parseRouteSpec(spec)).toThrow(DialplanError);
    expect(() => parseRouteSpec(spec)).toThrow(message);
  });
});

describe('parseRouteTable', () => {
  it('accepts a table and lowercases host names', () => {
    const routes = parseRouteTable({ groups: [{ id: 'blue', endpoints: [{ host: 'CC.Example.com', port: 8084 }], state: 'active' }] });
    expect(routes.groups[0].endpoints[0].host).toBe('cc.example.com');
  });

  it.each([
    [{ groups: [] }, 'route table: groups: a route table needs at least one group'],
    [{ groups: [{ id: 'blue', endpoints: [{ host: 'a', port: 1 }], state: 'paused' }] }, "groups[0].state: must be 'active' or 'drained'"],
    [{ groups: [{ id: 'blue', endpoints: [], state: 'active' }] }, 'groups[0].endpoints: a group needs at least one endpoint'],
    [{ groups: [{ id: 'blue', endpoints: [{ host: 'a', port: 1 }], state: 'active', wieght: 5 }] }, 'groups[0]: Unrecognized key: "wieght"'],
    [table('blue=a:1', 'blue=b:2'), "groups[1].id: duplicate group id 'blue'"],
    [table('a=h:1', 'b=h:1', 'c=h:1', 'd=h:1', 'e=h:1'), 'groups: 5 groups are active; the dialplan tries at most 4'],
  ])('rejects an invalid table with a one-line message naming the field (%#)', (input, message) => {
    expect(() => parseRouteTable(input)).toThrow(message);
    expect(() => parseRouteTable(input)).toThrow(/^[^\n]+$/);
  });
});

describe('activeGroups', () => {
  it('orders active groups by descending weight, unweighted ones last, ties in table order', () => {
    const routes = table('a=h:1', 'b=h:1@10', 'c=h:1@300', 'd=h:1', 'e=h:1@10');
    expect(ids(routes)).toEqual(['c', 'b', 'e', 'a', 'd']);
  });

  it('leaves drained groups out', () => {
    expect(ids(drainGroup(table('blue=h:1', 'green=h:2'), 'blue'))).toEqual(['green']);
  });
});

describe('drainGroup and restoreGroup', () => {
  const blueGreen = table('blue=10.0.0.1:8084', 'green=10.0.1.1:8084');

  it('drains a group without touching the others or the input', () => {
    const drained = drainGroup(blueGreen, 'blue');
    expect(drained.groups.map((group) => group.state)).toEqual(['drained', 'active']);
    expect(blueGreen.groups[0].state).toBe('active');
  });

  it('refuses to drain the last active group', () => {
    const greenOnly = drainGroup(blueGreen, 'blue');
    expect(() => drainGroup(greenOnly, 'green')).toThrow("refusing to drain 'green': it is the last active call-control group");
  });

  it('is idempotent, so a retried drain or restore is harmless', () => {
    const drained = drainGroup(blueGreen, 'blue');
    expect(drainGroup(drained, 'blue')).toEqual(drained);
    expect(restoreGroup(blueGreen, 'blue')).toEqual(blueGreen);
  });

  it('restores a group to its place in the try order', () => {
    const weighted = table('blue=h:1@100', 'green=h:2@50');
    expect(ids(restoreGroup(drainGroup(weighted, 'blue'), 'blue'))).toEqual(['blue', 'green']);
  });

  it('refuses to make more groups active than the dialplan tries', () => {
    const full = table('a=h:1', 'b=h:1', 'c=h:1', 'd=h:1', 'e=h:1');
    const fourActive = { groups: full.groups.map((group) => (group.id === 'e' ? { ...group, state: 'drained' as const } : group)) };
    expect(() => restoreGroup(fourActive, 'e')).toThrow("cannot restore 'e': 4 groups are already active");
  });

  it('names the groups when the id is unknown', () => {
    expect(() => drainGroup(blueGreen, 'red')).toThrow("no call-control group 'red' in the route table (groups: blue active, green active)");
    expect(() => restoreGroup(blueGreen, 'red')).toThrow("no call-control group 'red'");
  });
});

describe('assertRoutable', () => {
  it('accepts a table with an active group', () => {
    expect(() => assertRoutable(drainGroup(table('blue=h:1', 'green=h:2'), 'blue'))).not.toThrow();
  });

  it('rejects a table where every group is drained', () => {
    const allDrained: RouteTable = { groups: table('blue=h:1').groups.map((group) => ({ ...group, state: 'drained' })) };
    expect(() => assertRoutable(allDrained)).toThrow('route table has no active call-control group (groups: blue drained)');
  });
});

describe('shares of new calls', () => {
  const blueGreen = table('blue=h:1@100', 'green=h:2@50');
  const orderFor = (routes: RouteTable, draw: number) => tryOrder(routes, draw).map((group) => group.id);

  it('sends a group its share of draws first, and every other call to the groups without a share first', () => {
    const canary = setGroupShare(blueGreen, 'green', 10);
    expect(orderFor(canary, 0)).toEqual(['green', 'blue']);
    expect(orderFor(canary, 9)).toEqual(['green', 'blue']);
    expect(orderFor(canary, 10)).toEqual(['blue', 'green']);
    expect(orderFor(canary, 99)).toEqual(['blue', 'green']);
    expect(firstChoiceShares(canary)).toEqual(new Map([['blue', 90], ['green', 10]]));
  });

  it('gives groups with shares consecutive ranges of draws in failover order', () => {
    const three = setGroupShare(setGroupShare(table('a=h:1@30', 'b=h:2@20', 'c=h:3@10'), 'a', 20), 'c', 30);
    const firsts = Array.from({ length: 100 }, (_, draw) => orderFor(three, draw)[0]);
    expect(firsts.filter((id) => id === 'a')).toHaveLength(20);
    expect(firsts.filter((id) => id === 'c')).toHaveLength(30);
    expect(firsts.filter((id) => id === 'b')).toHaveLength(50);
    expect(firsts.slice(0, 20).every((id) => id === 'a') && firsts.slice(20, 50).every((id) => id === 'c')).toBe(true);
    expect(orderFor(three, 0)).toEqual(['a', 'b', 'c']);
    expect(orderFor(three, 25)).toEqual(['c', 'b', 'a']);
    expect(orderFor(three, 75)).toEqual(['b', 'a', 'c']);
  });

  it('keeps a group at share 0 as the last failover only, and without shares the failover order for every draw', () => {
    const rolledBack = setGroupShare(blueGreen, 'blue', 0);
    expect(orderFor(rolledBack, 0)).toEqual(['green', 'blue']);
    expect(firstChoiceShares(rolledBack)).toEqual(new Map([['blue', 0], ['green', 100]]));
    expect([0, 50, 99].map((draw) => orderFor(blueGreen, draw))).toEqual([['blue', 'green'], ['blue', 'green'], ['blue', 'green']]);
  });

  it('refuses shares that cannot be honoured, naming the problem', () => {
    expect(() => setGroupShare(setGroupShare(blueGreen, 'blue', 60), 'green', 50)).toThrow('shares add up to 110%, more than 100%');
    expect(() => setGroupShare(setGroupShare(blueGreen, 'blue', 60), 'green', 30)).toThrow('shares add up to 90% and no active group is left without a share to take the other 10%');
    expect(() => setGroupShare(drainGroup(blueGreen, 'blue'), 'blue', 5)).toThrow("cannot give 'blue' a share of new calls: it is drained");
    expect(() => setGroupShare(blueGreen, 'blue', 101)).toThrow('101 is not in 0..100');
    expect(() => parseRouteTable({ groups: [{ ...drainGroup(blueGreen, 'blue').groups[0], share: 5 }, blueGreen.groups[1]] })).toThrow("'blue' is drained: a drained group takes no share of new calls");
  });

  it('drops a share with the drain, and refuses a drain that would leave shares without a taker', () => {
    const canary = setGroupShare(blueGreen, 'green', 10);
    expect(drainGroup(canary, 'green').groups.find((group) => group.id === 'green')).not.toHaveProperty('share');
    expect(() => drainGroup(canary, 'blue')).toThrow('shares add up to 10% and no active group is left without a share to take the other 90%');
    expect(setGroupShare(canary, 'green', undefined)).toEqual(blueGreen);
  });
});

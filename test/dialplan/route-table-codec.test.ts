import {
  decodeRouteTable,
  DialplanError,
  drainGroup,
  encodeRouteTable,
  parseRouteSpec,
  restoreGroup,
  type RouteTable,
  setGroupShare,
} from '../../runtime/dialplan';

const table = (...specs: string[]): RouteTable => ({ groups: specs.map(parseRouteSpec) });
const withShares = (routes: RouteTable, shares: Record<string, number>) =>
  Object.entries(shares).reduce((current, [id, share]) => setGroupShare(current, id, share), routes);

const TABLES: RouteTable[] = [
  table('blue=10.0.0.1:8084'),
  table('blue=10.0.0.1:8084|10.0.0.2:8084', 'green=cc-green.internal.example.com:9000@50'),
  drainGroup(table('blue=10.0.0.1:1@1000', 'green=10.0.1.1:65535@1', 'red=r.example:8084'), 'green'),
  table('a=h1:1|h2:2|h3:3|h4:4@7', 'b-2=0.0.0.0:8084@7', 'c=255.255.255.255:8084', 'd=x.y:1@999'),
  withShares(table('blue=10.0.0.1:8084@100', 'green=10.0.1.1:8084'), { green: 10 }),
  withShares(table('blue=10.0.0.1:8084@100', 'green=10.0.1.1:8084'), { blue: 0 }),
  withShares(drainGroup(table('a=h:1', 'b=h:2@5', 'c=h:3@9', 'd=h:4', 'e=h:5'), 'd'), { a: 25, c: 1, e: 0 }),
  withShares(table('a=h:1', 'b=h:2', 'c=h:3', 'd=h:4'), { a: 97, b: 1, c: 1, d: 1 }),
  withShares(table('blue=h:1', 'green=h:2'), { blue: 100 }),
];

describe('encodeRouteTable / decodeRouteTable', () => {
  it('writes the documented format: table order, rank derived from weights, empty weight when none', () => {
    const encoded = encodeRouteTable(drainGroup(table('blue=10.0.0.1:8084|10.0.0.2:8084', 'green=cc.example.com:8084@50', 'red=10.0.2.1:8084'), 'red'));
    expect(encoded).toBe('vp1~blue_a2__10.0.0.1_8084_10.0.0.2_8084~green_a1_50_cc.example.com_8084~red_d__10.0.2.1_8084');
  });

  it('writes a table with shares as documented: base ranks, share slots and the bounds of their draws', () => {
    const routes = withShares(table('blue=10.0.0.1:8084@100', 'green=cc.example.com:8084@50', 'red=10.0.2.1:8084'), { green: 10, red: 0 });
    expect(encodeRouteTable(routes)).toBe('vp2_10_10_10_10~blue_a1_100_10.0.0.1_8084~green_a2s1_50_cc.example.com_8084~red_a3s0__10.0.2.1_8084');
    const two = withShares(table('a=h:1@9', 'b=h:2@8', 'c=h:3'), { a: 20, b: 30 });
    expect(encodeRouteTable(two)).toBe('vp2_20_50_50_50~a_a2s1_9_h_1~b_a3s2_8_h_2~c_a1__h_3');
  });

  it('never drops a share: every table with one encodes as vp2 and decodes to the same shares', () => {
    for (const routes of TABLES.filter((candidate) => candidate.groups.some((group) => group.share !== undefined))) {
      const encoded = encodeRouteTable(routes);
      expect(encoded.startsWith('vp2_')).toBe(true);
      expect(decodeRouteTable(encoded).groups.map((group) => group.share)).toEqual(routes.groups.map((group) => group.share));
    }
  });

  it('writes a table without shares exactly as before shares existed (vp1), so stored values stay readable both ways', () => {
    const stored = 'vp1~blue_a2__10.0.0.1_8084_10.0.0.2_8084~green_a1_50_cc.example.com_8084~red_d__10.0.2.1_8084';
    expect(encodeRouteTable(decodeRouteTable(stored))).toBe(stored);
    const canary = withShares(decodeRouteTable(stored), { blue: 5 });
    expect(encodeRouteTable(setGroupShare(canary, 'blue', undefined))).toBe(stored);
  });

  it.each(TABLES.map((routes, index) => [index, routes]))('round-trips table %i', (_, routes) => {
    expect(decodeRouteTable(encodeRouteTable(routes))).toEqual(routes);
  });

  it.each(TABLES.map((routes, index) => [index, routes]))('table %i encodes to a value the db API and URL encoding leave alone', (_, routes) => {
    const encoded = encodeRouteTable(routes);
    expect(encoded).toMatch(/^[a-z0-9._~-]+$/);
    expect(encodeURIComponent(encoded)).toBe(encoded);
  });

  it('is deterministic and canonical: decoding then encoding gives back the same value', () => {
    for (const routes of TABLES) {
      const encoded = encodeRouteTable(routes);
      expect(encodeRouteTable(decodeRouteTable(encoded))).toBe(encoded);
    }
  });

  it('gives a drained-then-restored table its original value back', () => {
    const routes = table('blue=h:1@10', 'green=h:2@20');
    expect(encodeRouteTable(restoreGroup(drainGroup(routes, 'green'), 'green'))).toBe(encodeRouteTable(routes));
  });

  it('stores host names lowercased', () => {
    const routes: RouteTable = { groups: [{ id: 'blue', endpoints: [{ host: 'CC.Example.COM', port: 8084 }], state: 'active' }] };
    expect(encodeRouteTable(routes)).toBe('vp1~blue_a1__cc.example.com_8084');
  });

  it('refuses a table longer than FreeSWITCH db select returns (255 characters), at 255 exactly it is accepted', () => {
    // Dotted labels of 9 characters keep every label within DNS's 63-character limit.
    const longHost = (length: number) => Array.from({ length }, (_, index) => (index % 10 === 9 ? '.' : 'h')).join('');
    const endpoint = (length: number) => ({ host: longHost(length), port: 8084 });
    const tableWith = (hostLength: number): RouteTable => ({ groups: [{ id: 'blue', endpoints: [endpoint(hostLength)], state: 'active' }] });
    const overhead = encodeRouteTable(tableWith(1)).length - 1;
    expect(encodeRouteTable(tableWith(255 - overhead))).toHaveLength(255);
    expect(() => encodeRouteTable(tableWith(256 - overhead))).toThrow(/^route table encodes to 256 characters; FreeSWITCH's db returns at most 255/);
  });

  it('refuses to encode an invalid table', () => {
    const invalid: RouteTable = { groups: [{ id: 'blue', endpoints: [{ host: 'not a host', port: 8084 }], state: 'active' }] };
    expect(() => encodeRouteTable(invalid)).toThrow("route table: groups[0].endpoints[0].host: 'not a host' is not a hostname or an IPv4 address");
  });

  it.each([
    ['', "starts with '', expected the format tag 'vp1'"],
    ['-ERR no reply', 'unexpected character "E"'],
    ['vp2~blue_a1__h_1', "starts with 'vp2'"],
    ['vp1', 'groups: a route table needs at least one group'],
    ['vp1~', "group 1 '' is not ID_STATE_WEIGHT_HOST_PORT[_HOST_PORT...]"],
    ['vp1/blue_a1__h_1', 'unexpected character "/"'],
    ['vp1~blue_a1__h_1 ', 'unexpected character " "'],
    ['vp1~blue_a1__h%41_1', 'unexpected character "%"'],
    ['vp1~blue_a1__h', "group 1 'blue_a1__h' is not"],
    ['vp1~blue_a1__h_1_h2', "group 1 'blue_a1__h_1_h2' is not"],
    ['vp1~blue_x__h_1', "group 1 'blue_x__h_1' is not"],
    ['vp1~blue_a1__h_08084', "group 1 'blue_a1__h_08084' is not"],
    ['vp1~blue_a1_050_h_1', "group 1 'blue_a1_050_h_1' is not"],
    ['vp1~blue_a1__h_70000', 'groups[0].endpoints[0].port: 70000 is not in 1..65535'],
    ['vp1~blue_a1__300.1.1.1_1', "groups[0].endpoints[0].host: '300.1.1.1' is not a hostname"],
    ['vp1~blue_a1_0_h_1', "group 1 'blue_a1_0_h_1' is not"],
    ['vp1~blue_a1_2000_h_1', 'groups[0].weight: 2000 is not in 1..1000'],
    ['vp1~blue_a1__h_1~blue_d__h_2', "groups[1].id: duplicate group id 'blue'"],
    ['vp1~blue_a1__a_1_b_2_c_3_d_4_e_5', 'groups[0].endpoints: at most 4 endpoints per group'],
    ['vp1~blue_a2__h_1', "group 'blue' is stored as 'a2' but its weight and position make it 'a1'"],
    ['vp1~blue_a1__h_1~green_a2_9_h_2', "group 'blue' is stored as 'a1' but its weight and position make it 'a2'"],
    ['vp1~blue_d__h_1~green_a2__h_2', "group 'green' is stored as 'a2' but its weight and position make it 'a1'"],
    ['vp3~blue_a1__h_1', "starts with 'vp3', expected the format tag 'vp1' or 'vp2' and 4 share bounds"],
    ['vp2_10_10_10~blue_a1__h_1~green_a2s1__h_2', "starts with 'vp2_10_10_10', expected"],
    ['vp2_10_10_10_010~blue_a1__h_1~green_a2s1__h_2', "starts with 'vp2_10_10_10_010', expected"],
    ['vp1~blue_a1__h_1~green_a2s1__h_2', "group 2 'green_a2s1__h_2' has share slot 1, which the header does not define"],
    ['vp2_10_10_10_10~blue_a1__h_1~green_a2s5__h_2', "group 2 'green_a2s5__h_2' has share slot 5"],
    ['vp2_10_10_10_10~blue_a1__h_1~green_a2__h_2', "is not in canonical form: its groups encode to 'vp1~blue_a1__h_1~green_a2__h_2'"],
    ['vp2_10_20_20_20~blue_a1__h_1~green_a2s1__h_2', 'is not in canonical form'],
    ['vp2_10_10_10_10~blue_a2__h_1~green_a1s1__h_2', "group 'blue' is stored as 'a2' but its weight and position make it 'a1'"],
    ['vp2_10_10_10_10~blue_d__h_1~green_a1s1__h_2', 'no active group is left without a share to take the other 90%'],
    ['vp2_60_110_110_110~blue_a1__h_1~green_a2s1__h_2~red_a3s2__h_3', 'shares add up to 110%, more than 100%'],
    ['vp2_10_10_10_10~blue_a1__h_1~green_d1__h_2', "group 2 'green_d1__h_2' is not"],
  ])('rejects %j with a message naming the bad part', (stored, message) => {
    expect(() => decodeRouteTable(stored)).toThrow(DialplanError);
    expect(() => decodeRouteTable(stored)).toThrow(message);
  });
});

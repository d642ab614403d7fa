import type { RouteTable } from '../../runtime/dialplan';
import { EslClient } from '../../runtime/esl';
import { LocalFreeSwitch } from '../../runtime/local-freeswitch/local-freeswitch';
import { MediaServerClient, SharesUnsupportedError } from '../../runtime/media-server';
import { binomialAcceptance } from '../support/binomial-bounds';
import { FirstChoiceEndpoints } from '../support/first-choice-endpoint';
import { describeWithFreeSwitch } from '../support/real-freeswitch';
import { refusingPort } from '../support/route-tables';
import { type ScenarioMediaServer, scenarioMediaServers } from '../support/scenario-media-servers';

/*
 * Shares of new calls, applied by the media server's own dialplan at call time, on the simulator and on the real
 * FreeSWITCH alike: each call draws a number (mod_expr), the route table written over ESL says which group owns it.
 */

const SPLIT_CALLS = 2_000;
const CANARY_SHARE = 10;
/** A correct 10/90 split falls outside these bounds with probability below one in a million. */
const FALSE_FAILURE_PROBABILITY = 1e-6;
/** Calls in flight at once: enough to keep the real FreeSWITCH busy, few enough for a shared two-core machine. */
const CONCURRENT_CALLS = 25;

type ConnectedClient = Awaited<ReturnType<typeof MediaServerClient.connect>>;

const loopbackGroup = (id: string, port: number, weight?: number): RouteTable['groups'][number] => ({
  id,
  endpoints: [{ host: '127.0.0.1', port }],
  state: 'active',
  ...(weight === undefined ? {} : { weight }),
});

/** Places `count` calls, `concurrency` at a time; resolves once the media server answered or refused each. */
async function placeCalls(server: ScenarioMediaServer, count: number, concurrency: number): Promise<void> {
  let placed = 0;
  const worker = async () => {
    while (placed < count) {
      placed++;
      const call = await server.placeCall();
      if (call.answered) await call.hangUp();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

describe.each(scenarioMediaServers())('shares of new calls on $name', ({ start }) => {
  let server: ScenarioMediaServer;
  let client: ConnectedClient;
  let endpoints: FirstChoiceEndpoints;

  beforeEach(async () => {
    server = await start();
    client = await MediaServerClient.connect(server.eslOptions);
    endpoints = new FirstChoiceEndpoints();
  });

  afterEach(async () => {
    await client?.close();
    await server?.stop();
    await endpoints?.close();
  });

  const withLog = async (body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- ${server.name}, last log lines ---\n${server.logTail()}`;
      throw error;
    }
  };

  it(
    `splits ${SPLIT_CALLS} calls 10/90 within a two-sided binomial bound (false failure < 1e-6), each by its recorded draw`,
    () =>
      withLog(async () => {
        await client.setRoutes({ groups: [loopbackGroup('blue', await endpoints.endpoint('blue')), loopbackGroup('green', await endpoints.endpoint('green'))] });
        const routes = await client.setShare('blue', CANARY_SHARE);
        expect(routes.groups.find((group) => group.id === 'blue')?.share).toBe(CANARY_SHARE);

        await placeCalls(server, SPLIT_CALLS, CONCURRENT_CALLS);

        const calls = [...endpoints.calls.values()];
        expect(calls).toHaveLength(SPLIT_CALLS);
        const { low, high } = binomialAcceptance(SPLIT_CALLS, CANARY_SHARE / 100, FALSE_FAILURE_PROBABILITY);
        const blue = endpoints.countsByGroup().get('blue') ?? 0;
        expect({ blue, low, high, inBounds: blue >= low && blue <= high }).toEqual({ blue, low, high, inBounds: true });
        // The draw decides: draws 0..9 are blue's share, the others green's.
        const misrouted = calls.filter((call) => !/^[0-9]{1,2}$/.test(call.draw ?? '') || (Number(call.draw) < CANARY_SHARE) !== (call.group === 'blue'));
        expect(misrouted).toEqual([]);
      }),
    240_000,
  );

  it('still reaches the other group when the group the draw picked refuses', () =>
    withLog(async () => {
      await client.setRoutes({ groups: [loopbackGroup('blue', await refusingPort()), loopbackGroup('green', await endpoints.endpoint('green'))] });
      await client.setShare('blue', 100);

      await placeCalls(server, 20, 5);

      expect(endpoints.countsByGroup()).toEqual(new Map([['green', 20]]));
    }), 60_000);

  it('keeps applying the shares after a restart, from the table the core db kept', () =>
    withLog(async () => {
      // Green comes first in failover order: only the share sends calls to blue.
      const blue = loopbackGroup('blue', await endpoints.endpoint('blue'));
      await client.setRoutes({ groups: [blue, loopbackGroup('green', await endpoints.endpoint('green'), 100)] });
      await client.setShare('blue', 100);
      await client.close();

      await server.restart();
      client = await MediaServerClient.connect(server.eslOptions);
      await placeCalls(server, 10, 5);

      expect(endpoints.countsByGroup()).toEqual(new Map([['blue', 10]]));
      expect((await client.routes())?.groups.find((group) => group.id === 'blue')?.share).toBe(100);
    }), 90_000);
});

describeWithFreeSwitch('shares on a media server whose dialplan predates them', () => {
  it('are refused before anything is written: without mod_expr its dialplan reads only tables without shares', async () => {
    const freeswitch = await LocalFreeSwitch.start();
    const esl = await EslClient.connect(freeswitch.eslOptions);
    const client = new MediaServerClient(esl);
    try {
      // A configuration from before shares loaded no mod_expr.
      await esl.api('unload mod_expr');
      const before = await client.setRoutes({ groups: [loopbackGroup('blue', 8084), loopbackGroup('green', 8085)] });

      await expect(client.setShare('blue', 10)).rejects.toThrow(SharesUnsupportedError);
      expect(await client.routes()).toEqual(before);
      expect((await esl.api('db select/voiceplane/call_control_routes')).trim()).toMatch(/^vp1~/);
    } finally {
      await esl.close();
      await freeswitch.stop();
    }
  }, 60_000);
});

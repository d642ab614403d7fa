import { createServer } from 'net';
import { EslClient } from '../../runtime/esl';
import { LocalFreeSwitch } from '../../runtime/local-freeswitch/local-freeswitch';
import { MediaServerClient } from '../../runtime/media-server';
import type { RouteTable } from '../../runtime/dialplan';
import { type RunningGroup, spawnCallControl, startCallControl } from '../support/call-control-fixture';
import {
  carrierCall,
  channelRows,
  describeWithFreeSwitch,
  farEndTarget,
  isFarEndLeg,
  isMediaServerLeg,
  placeSipCall,
  replyText,
  withFreeSwitchLog,
} from '../support/real-freeswitch';
import { waitFor } from '../support/wait-for';

/*
 * The call path on the real FreeSWITCH running the media server's own rendered configuration: calls arrive as SIP
 * on the profile the SIP cluster uses, call control is our reference service over outbound ESL, and far ends are
 * real SIP channels answered by a carrier profile in the same FreeSWITCH.
 */

type ConnectedClient = Awaited<ReturnType<typeof MediaServerClient.connect>>;

const routeTo = (...groups: Array<{ id: string; port: number; state?: 'active' | 'drained' }>): RouteTable => ({
  groups: groups.map(({ id, port, state }) => ({ id, endpoints: [{ host: '127.0.0.1', port }], state: state ?? 'active' })),
});

async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Asserting that something does NOT happen needs an observation window: FreeSWITCH reacts to a closed call-control
 * socket within milliseconds, so a second covers it with margin. Not a wait for a condition.
 */
const observe = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Spaces out call arrivals to a steady rate; not a wait for any condition. */
const pace = observe;

describeWithFreeSwitch('the media server call path on the real FreeSWITCH', () => {
  let freeswitch: LocalFreeSwitch;
  let esl: EslClient;
  let client: ConnectedClient;
  const running: RunningGroup[] = [];
  let callCounter = 0;

  const nextCaller = () => `caller-${process.pid}-${++callCounter}`;
  const exists = async (uuid: string) => (await esl.api(`uuid_exists ${uuid}`)).trim() === 'true';
  const groupCount = (group: string) => client.groupCallCount(group);
  const hangUp = async (uuid: string) => {
    await esl.api(`uuid_kill ${uuid}`).catch(() => undefined);
    await waitFor(async () => !(await exists(uuid)), { timeoutMs: 10_000, message: `call ${uuid} ended` });
  };
  const track = <T extends RunningGroup>(group: T): T => {
    running.push(group);
    return group;
  };
  const mediaServerLegs = async () => (await channelRows(esl)).filter(isMediaServerLeg);
  /** The media server's leg of the one call up, once FreeSWITCH lists it (`show channels` lags behind the call). */
  const theMediaServerLeg = async () => {
    await waitFor(async () => (await mediaServerLegs()).length === 1, { timeoutMs: 10_000, message: 'FreeSWITCH lists the media server leg' });
    return (await mediaServerLegs())[0];
  };

  beforeAll(async () => {
    freeswitch = await LocalFreeSwitch.start();
    esl = await EslClient.connect(freeswitch.eslOptions);
    client = await MediaServerClient.connect(freeswitch.eslOptions);
  }, 60_000);

  afterEach(async () => {
    await esl.api('hupall NORMAL_CLEARING').catch(() => undefined);
    await waitFor(async () => (await channelRows(esl)).length === 0, { timeoutMs: 15_000, message: 'every channel hung up' });
    await Promise.all(running.splice(0).map((group) => group.stop()));
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await esl?.close();
    await freeswitch?.stop();
  }, 30_000);

  it('routes a SIP call to the first active group, tags it and counts it there until it ends', () =>
    withFreeSwitchLog(freeswitch, async () => {
      const blue = track(await startCallControl('blue'));
      const green = track(await startCallControl('green'));
      await client.setRoutes(routeTo({ id: 'blue', port: blue.eslPort }, { id: 'green', port: green.eslPort }));

      const caller = nextCaller();
      expect(await placeSipCall(esl, freeswitch, caller)).toBe(`+OK ${caller}`);
      await waitFor(async () => (await groupCount('blue')) === 1, { timeoutMs: 10_000, message: 'blue counts the call' });
      expect(await groupCount('green')).toBe(0);
      const leg = await theMediaServerLeg();
      expect((await esl.api(`uuid_getvar ${leg.uuid} vp_cc_group`)).trim()).toBe('blue');
      // `show calls count as json` on the real server: {"row_count":N,"rows":[]}.
      const calls = await client.activeCalls();
      expect(calls.byGroup).toEqual({ blue: 1, green: 0 });
      expect(calls.total).toBeGreaterThanOrEqual(1);

      await hangUp(caller);
      await waitFor(async () => (await groupCount('blue')) === 0, { timeoutMs: 10_000, message: 'blue released the call' });
    }));

  it('sends no new call to a drained group while its call in progress continues', () =>
    withFreeSwitchLog(freeswitch, async () => {
      const blue = track(await startCallControl('blue'));
      const green = track(await startCallControl('green'));
      await client.setRoutes(routeTo({ id: 'blue', port: blue.eslPort }, { id: 'green', port: green.eslPort }));
      const before = nextCaller();
      await placeSipCall(esl, freeswitch, before);
      await waitFor(async () => (await groupCount('blue')) === 1, { timeoutMs: 10_000, message: 'blue has the first call' });

      await client.drain('blue');
      const after = nextCaller();
      expect(await placeSipCall(esl, freeswitch, after)).toBe(`+OK ${after}`);
      await waitFor(async () => (await groupCount('green')) === 1, { timeoutMs: 10_000, message: 'green has the second call' });
      expect(await groupCount('blue')).toBe(1);
      expect(await exists(before)).toBe(true);
    }));

  it('rejects a call no group takes with an explicit failure (503), never a silent drop', () =>
    withFreeSwitchLog(freeswitch, async () => {
      await client.setRoutes(routeTo({ id: 'blue', port: await refusingPort() }));
      // The carrier's leg fails with the cause mod_sofia maps the media server's 503 to.
      expect(await placeSipCall(esl, freeswitch, nextCaller())).toBe('-ERR NORMAL_TEMPORARY_FAILURE');
      expect(await groupCount('blue')).toBe(0);
    }));

  it('re-homes a parked call to another group when its call-control process is killed', () =>
    withFreeSwitchLog(freeswitch, async () => {
      const blue = track(await spawnCallControl('blue'));
      const green = track(await startCallControl('green'));
      await client.setRoutes(routeTo({ id: 'blue', port: blue.eslPort }, { id: 'green', port: green.eslPort }));
      const caller = nextCaller();
      await placeSipCall(esl, freeswitch, caller);
      await waitFor(async () => (await groupCount('blue')) === 1, { timeoutMs: 10_000, message: 'blue has the call' });
      const leg = await theMediaServerLeg();

      blue.process.kill('SIGKILL');
      await waitFor(async () => (await groupCount('green')) === 1, { timeoutMs: 10_000, message: 'green took the re-homed call' });
      expect(await exists(caller)).toBe(true);
      expect((await mediaServerLegs()).map((row) => row.uuid)).toEqual([leg.uuid]);
    }));

  describe.each([
    {
      loss: 'is killed',
      start: (bridgeTarget: string) => spawnCallControl('blue', '1.0.0', { CALL_CONTROL_BRIDGE_TARGET: bridgeTarget }),
      lose: async (group: Awaited<ReturnType<typeof spawnCallControl>>) => void group.process.kill('SIGKILL'),
    },
    {
      loss: 'detaches at its shutdown deadline',
      start: (bridgeTarget: string) => startCallControl('blue', '1.0.0', { bridgeTarget }),
      lose: (group: RunningGroup) => group.stop(),
    },
  ])('a bridged call whose call control $loss', ({ start, lose }) => {
    it('keeps both legs and the same far end, is not re-homed, and ends when the far end hangs up', () =>
      withFreeSwitchLog(freeswitch, async () => {
        const bridgeTarget = farEndTarget(freeswitch);
        const blue = track(await start(bridgeTarget));
        const green = track(await startCallControl('green', '1.0.0', { bridgeTarget }));
        await client.setRoutes(routeTo({ id: 'blue', port: blue.eslPort }, { id: 'green', port: green.eslPort }));
        const caller = nextCaller();
        await placeSipCall(esl, freeswitch, caller);
        await waitFor(async () => (await channelRows(esl)).some(isFarEndLeg), { timeoutMs: 10_000, message: 'the call is bridged to the far end' });
        const bridged = (await channelRows(esl)).map((row) => row.uuid).sort();

        await (lose as (group: typeof blue) => Promise<void>)(blue);
        await observe(1_000);
        expect((await channelRows(esl)).map((row) => row.uuid).sort()).toEqual(bridged);
        expect(await groupCount('green')).toBe(0);

        const farEnd = (await channelRows(esl)).find((row) => row.name.startsWith('sofia/carrier/') && row.uuid !== caller);
        await hangUp(farEnd!.uuid);
        await waitFor(async () => !(await exists(caller)), { timeoutMs: 10_000, message: 'the caller is hung up after the far end' });
      }));
  });

  it('refuses no call while the route table is rewritten back to back under 100 calls/s', () =>
    withFreeSwitchLog(freeswitch, async () => {
      const blue = track(await startCallControl('blue'));
      const green = track(await startCallControl('green'));
      const tables = [
        routeTo({ id: 'blue', port: blue.eslPort }, { id: 'green', port: green.eslPort }),
        routeTo({ id: 'green', port: green.eslPort }, { id: 'blue', port: blue.eslPort }),
      ];
      await client.setRoutes(tables[0]);
      let writing = true;
      let writes = 0;
      const writer = (async () => {
        for (let index = 1; writing; index++) {
          await client.setRoutes(tables[index % 2]);
          writes++;
        }
      })();

      const calls = 300;
      const replies: Promise<string>[] = [];
      for (let index = 0; index < calls; index++) {
        const caller = nextCaller();
        replies.push(
          replyText(esl.bgapi(`originate ${carrierCall(freeswitch, caller)} &park()`)).then(async (reply) => {
            if (reply.startsWith('+OK')) await esl.api(`uuid_kill ${caller}`);
            return reply;
          }),
        );
        await pace(10);
      }
      const outcomes = await Promise.all(replies);
      writing = false;
      await writer;
      expect(writes).toBeGreaterThan(100);
      expect(outcomes.filter((reply) => !reply.startsWith('+OK'))).toEqual([]);
    }));
});

import type { ChildProcess } from 'child_process';
import { EslClient } from '../../runtime/esl';
import { MediaServerClient } from '../../runtime/media-server';
import { type RunningGroup, spawnCallControl, startCallControl } from '../support/call-control-fixture';
import { type PlacedCall, type ScenarioMediaServer, scenarioMediaServers } from '../support/scenario-media-servers';
import { refusingPort, routeTo } from '../support/route-tables';
import { withServerLog } from '../support/real-freeswitch';
import { waitFor } from '../support/wait-for';
import { recordingLogger } from '../call-control/recording-logger';
import { startSingleNode } from '../support/cds/single-node';
import { startCallControlFleet } from '../support/upgrade/local-fleet-fixture';
import { startStateTable } from '../support/upgrade/state-table-fixture';
import { groupHealth, upgradeFleet } from '../support/upgrade/upgrade-harness';

/*
 * One list of call-path scenarios, run against the simulator and against the real FreeSWITCH (on the media server's
 * own rendered configuration, calls arriving as SIP on the profile the SIP cluster uses, far ends real SIP channels).
 * Where the two disagreed, the simulator was changed: both must pass every scenario.
 */

type ConnectedClient = Awaited<ReturnType<typeof MediaServerClient.connect>>;

/**
 * Asserting that something does NOT happen needs an observation window: a media server reacts to a closed
 * call-control socket within milliseconds, so a second covers it with margin. Not a wait for a condition.
 */
const observe = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Spaces out call arrivals to a steady rate; not a wait for any condition. */
const pace = observe;

describe.each(scenarioMediaServers())('call-path scenarios on $name', ({ start }) => {
  let server: ScenarioMediaServer;
  let client: ConnectedClient;
  let esl: EslClient;
  const running: RunningGroup[] = [];
  const calls: PlacedCall[] = [];
  /** What else a scenario started (fleets, tables, CDS nodes), stopped after it. */
  const cleanups: (() => Promise<void>)[] = [];

  const groupCount = (group: string) => client.groupCallCount(group);
  const track = <T extends RunningGroup>(group: T): T => {
    running.push(group);
    return group;
  };
  const placeCall = async () => {
    const call = await server.placeCall();
    calls.push(call);
    return call;
  };
  /** The one call's media-server leg, once the server lists it (the real one's `show channels` lags behind). */
  const theMediaServerLeg = async () => {
    await waitFor(async () => (await server.legs()).mediaServer.length === 1, { timeoutMs: 10_000, message: 'the media server lists the call' });
    return (await server.legs()).mediaServer[0];
  };
  /** Runs a scenario; a failure carries the tail of the server's log. */
  const scenario = (body: () => Promise<void>) => () => withServerLog(server.name, () => server.logTail(), body);

  beforeAll(async () => {
    server = await start();
    client = await MediaServerClient.connect(server.eslOptions);
    esl = await EslClient.connect(server.eslOptions);
  }, 60_000);

  afterEach(async () => {
    await Promise.all(calls.splice(0).map((call) => call.hangUp()));
    const legs = await server.legs();
    await Promise.all([...legs.mediaServer, ...legs.farEnd].map((uuid) => server.hangUp(uuid)));
    await waitFor(async () => (await server.legs()).mediaServer.length === 0, { timeoutMs: 15_000, message: 'every call hung up' });
    await Promise.all(running.splice(0).map((group) => group.stop()));
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  }, 30_000);

  afterAll(async () => {
    await esl?.close();
    await client?.close();
    await server?.stop();
  }, 30_000);

  it(
    'routes a call to the first active group, tags it and counts it there until it ends',
    scenario(async () => {
      const blue = track(await startCallControl('blue'));
      const green = track(await startCallControl('green'));
      await client.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }, { id: 'green', ports: [green.eslPort] }));

      const call = await placeCall();
      expect(call.answered).toBe(true);
      await waitFor(async () => (await groupCount('blue')) === 1, { timeoutMs: 10_000, message: 'blue counts the call' });
      expect((await client.activeCalls()).byGroup).toEqual({ blue: 1, green: 0 });
      // The total comes from `show calls`, which the real server updates asynchronously.
      await waitFor(async () => (await client.activeCalls()).total >= 1, { timeoutMs: 10_000, message: 'show calls lists the call' });
      const counted = await esl.api('show calls count as json');
      expect(counted).toMatch(/^\{"row_count":[1-9][0-9]*,"rows":\[\]\}$/);

      await call.hangUp();
      await waitFor(async () => (await groupCount('blue')) === 0, { timeoutMs: 10_000, message: 'blue released the call' });
    }),
  );

  it(
    'sends no new call to a drained group while its call in progress continues',
    scenario(async () => {
      const blue = track(await startCallControl('blue'));
      const green = track(await startCallControl('green'));
      await client.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }, { id: 'green', ports: [green.eslPort] }));
      const before = await placeCall();
      await waitFor(async () => (await groupCount('blue')) === 1, { timeoutMs: 10_000, message: 'blue has the first call' });

      await client.drain('blue');
      expect((await placeCall()).answered).toBe(true);
      await waitFor(async () => (await groupCount('green')) === 1, { timeoutMs: 10_000, message: 'green has the second call' });
      expect(await groupCount('blue')).toBe(1);
      expect(await before.isUp()).toBe(true);
    }),
  );

  it(
    'rejects a call no group takes with an explicit failure (503), never a silent drop',
    scenario(async () => {
      await client.setRoutes(routeTo({ id: 'blue', ports: [await refusingPort()] }));
      const call = await placeCall();
      // The cause mod_sofia maps the media server's 503 to.
      expect(call).toMatchObject({ answered: false, refusalCause: 'NORMAL_TEMPORARY_FAILURE' });
      expect(await groupCount('blue')).toBe(0);
    }),
  );

  it(
    're-homes a parked call to another group when its call-control process is killed',
    scenario(async () => {
      const blue = track(await spawnCallControl('blue'));
      const green = track(await startCallControl('green'));
      await client.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }, { id: 'green', ports: [green.eslPort] }));
      const call = await placeCall();
      await waitFor(async () => (await groupCount('blue')) === 1, { timeoutMs: 10_000, message: 'blue has the call' });
      const leg = await theMediaServerLeg();

      blue.process.kill('SIGKILL');
      await waitFor(async () => (await groupCount('green')) === 1, { timeoutMs: 10_000, message: 'green took the re-homed call' });
      expect(await call.isUp()).toBe(true);
      expect((await server.legs()).mediaServer).toEqual([leg]);
    }),
  );

  describe.each([
    {
      loss: 'is killed',
      start: (bridgeTarget: string) => spawnCallControl('blue', '1.0.0', { CALL_CONTROL_BRIDGE_TARGET: bridgeTarget }),
      lose: async (group: RunningGroup & { process?: ChildProcess }) => void group.process?.kill('SIGKILL'),
    },
    {
      loss: 'detaches at its shutdown deadline',
      start: (bridgeTarget: string) => startCallControl('blue', '1.0.0', { bridgeTarget }),
      lose: (group: RunningGroup) => group.stop(),
    },
  ])('a bridged call whose call control $loss', ({ start: startBlue, lose }) => {
    it(
      'keeps both legs and the same far end, is not re-homed, and ends when the far end hangs up',
      scenario(async () => {
        const blue = track(await startBlue(server.farEndTarget));
        const green = track(await startCallControl('green', '1.0.0', { bridgeTarget: server.farEndTarget }));
        await client.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }, { id: 'green', ports: [green.eslPort] }));
        const call = await placeCall();
        await waitFor(async () => (await server.legs()).farEnd.length === 1, { timeoutMs: 10_000, message: 'the call is bridged to the far end' });
        const bridged = await server.legs();

        await lose(blue);
        await observe(1_000);
        expect(await server.legs()).toEqual(bridged);
        expect(await groupCount('green')).toBe(0);

        await server.hangUp(bridged.farEnd[0]);
        await waitFor(async () => !(await call.isUp()), { timeoutMs: 10_000, message: 'the caller is hung up after the far end' });
      }),
    );
  });

  it(
    'keeps counting a call for its group after call control transfers it',
    scenario(async () => {
      const transferring = track(
        await startCallControl('blue', '1.0.0', {
          flow: async (call) => {
            await call.answer();
            await call.execute('transfer', server.holdTarget);
            await call.ended;
          },
        }),
      );
      await client.setRoutes(routeTo({ id: 'blue', ports: [transferring.eslPort] }));
      const call = await placeCall();
      await waitFor(async () => (await groupCount('blue')) === 1, { timeoutMs: 10_000, message: 'blue has the call' });
      await observe(500);
      expect(await call.isUp()).toBe(true);
      expect(await groupCount('blue')).toBe(1);
    }),
  );

  it(
    'tells call control how every call ended (the hangup event is not lost when the channel goes down)',
    scenario(async () => {
      const { logger, entries } = recordingLogger();
      const blue = track(await startCallControl('blue', '1.0.0', { logger }));
      await client.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }));
      const placed = await Promise.all(Array.from({ length: 20 }, () => server.placeCall()));
      await Promise.all(placed.map((call) => call.hangUp()));
      await waitFor(() => entries.filter((entry) => entry.msg === 'call ended').length === placed.length, { timeoutMs: 30_000, message: 'every call ended' });
      expect(entries.filter((entry) => entry.msg === 'call ended').map((entry) => entry.hangupCause)).toEqual(placed.map(() => 'NORMAL_CLEARING'));
    }),
  );

  it(
    'routes by the stored table after a restart (the in-memory copy is gone)',
    scenario(async () => {
      const blue = track(await startCallControl('blue'));
      const green = track(await startCallControl('green'));
      await client.setRoutes(routeTo({ id: 'green', ports: [green.eslPort] }, { id: 'blue', ports: [blue.eslPort] }));
      await Promise.all([client.close(), esl.close()]);
      await server.restart();
      client = await MediaServerClient.connect(server.eslOptions);
      esl = await EslClient.connect(server.eslOptions);

      expect((await placeCall()).answered).toBe(true);
      await waitFor(async () => (await groupCount('green')) === 1, { timeoutMs: 10_000, message: 'green has the call' });
    }),
    60_000,
  );

  it(
    'refuses no call while the route table is rewritten back to back under 100 calls/s',
    scenario(async () => {
      const blue = track(await startCallControl('blue'));
      const green = track(await startCallControl('green'));
      const tables = [
        routeTo({ id: 'blue', ports: [blue.eslPort] }, { id: 'green', ports: [green.eslPort] }),
        routeTo({ id: 'green', ports: [green.eslPort] }, { id: 'blue', ports: [blue.eslPort] }),
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

      const placed: Promise<PlacedCall>[] = [];
      for (let index = 0; index < 300; index++) {
        placed.push(
          server.placeCall().then(async (call) => {
            await call.hangUp();
            return call;
          }),
        );
        await pace(10);
      }
      const outcomes = await Promise.all(placed);
      writing = false;
      await writer;
      expect(writes).toBeGreaterThan(100);
      expect(outcomes.filter((call) => !call.answered).map((call) => call.refusalCause)).toEqual([]);
    }),
  );

  it(
    'upgrades blue, then green, under calls: each drain waits for live calls, none is dropped or refused, both run the new version',
    scenario(async () => {
      const fleet = await startCallControlFleet(server.eslOptions, { env: { ...process.env, CALL_CONTROL_BRIDGE_TARGET: server.farEndTarget } });
      cleanups.push(() => fleet.stop());
      const table = await startStateTable();
      cleanups.push(() => table.close());

      let placing = true;
      const outcomes: Promise<string>[] = [];
      /** One call held for 1–2 s: `completed` when it was still up when the caller hung up. */
      const heldCall = async (): Promise<string> => {
        const call = await server.placeCall();
        if (!call.answered) return `refused: ${call.refusalCause}`;
        await observe(1_000 + Math.floor(Math.random() * 1_000));
        if (!(await call.isUp())) return 'dropped';
        await call.hangUp();
        return 'completed';
      };
      const load = (async () => {
        while (placing) {
          outcomes.push(heldCall());
          await pace(200);
        }
      })();

      // Blue's drain must find calls to wait for: the upgrade starts once some are up on it.
      await waitFor(async () => (await groupCount('blue')) >= 2, { timeoutMs: 15_000, message: 'calls up on blue before the upgrade' }).catch((error: Error) => {
        placing = false;
        throw error;
      });
      const { summary, progress } = await upgradeFleet(fleet, table, { upgradeId: `scenario-${process.pid}`, wakeOnCallEnd: true }).finally(() => (placing = false));
      await load;
      const results = await Promise.all(outcomes);

      expect(summary.status).toBe('succeeded');
      expect(summary.mediaServers[0].groups.map((group) => [group.groupId, group.phase, group.forcedCalls])).toEqual([
        ['blue', 'restored', 0],
        ['green', 'restored', 0],
      ]);
      const drainingWith = (groupId: string) => Math.max(0, ...progress.filter((event) => event.groupId === groupId && event.step === 'checkDrain').map((event) => event.remainingCalls ?? 0));
      expect(drainingWith('blue')).toBeGreaterThan(0);
      expect(drainingWith('green')).toBeGreaterThan(0);
      expect(results.length).toBeGreaterThan(10);
      expect(results.filter((result) => result !== 'completed')).toEqual([]);
      expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.1.0', acceptingCalls: true })]);
      expect(await groupHealth(fleet, 'green')).toEqual([expect.objectContaining({ version: '1.1.0', acceptingCalls: true })]);
      expect((await fleet.routes())?.groups.map((group) => [group.id, group.state])).toEqual([
        ['blue', 'active'],
        ['green', 'active'],
      ]);
    }),
    90_000,
  );

  it(
    "records a call in the site's CDS from the media server's channel events, ends it when the caller hangs up and archives it",
    scenario(async () => {
      const cds = await startSingleNode('west', {}, {}, { mediaServers: [server.eslOptions] });
      cleanups.push(() => cds.stop());
      await waitFor(() => cds.log.some((entry) => entry.msg === 'collecting events from media server'), { timeoutMs: 10_000, message: 'the CDS collects events' });
      const blue = track(await startCallControl('blue', '1.0.0', { bridgeTarget: server.farEndTarget }));
      await client.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }));

      const call = await placeCall();
      await waitFor(async () => (await server.legs()).farEnd.length === 1, { timeoutMs: 10_000, message: 'the call is bridged to the far end' });
      const { mediaServer, farEnd } = await server.legs();
      const callId = `west:${mediaServer[0]}`;
      await waitFor(async () => (await cds.client.call(callId))?.properties.bridgedLeg !== undefined, { timeoutMs: 10_000, message: 'the CDS has the bridge' });
      expect((await cds.client.call(callId))?.properties).toMatchObject({
        caller: { value: '5550100', site: 'west' },
        callee: { value: '1000' },
        mediaServer: { value: (await esl.api('hostname')).trim() },
        callControlGroup: { value: 'blue' },
        answeredAt: { value: expect.any(Number) },
        bridgedLeg: { value: farEnd[0] },
      });

      await call.hangUp();
      await waitFor(async () => (await cds.client.call(callId))?.state === 'ended', { timeoutMs: 10_000, message: 'the CDS ends the call' });
      expect((await cds.client.call(callId))?.properties).toMatchObject({ hangupCause: { value: 'NORMAL_CLEARING' }, billsec: { value: expect.any(Number) } });
      await waitFor(async () => (await cds.archive.read(callId)) !== undefined, { timeoutMs: 10_000, message: 'the archive record' });
    }),
  );
});

import { MediaServerClient } from '../../../runtime/media-server';
import { canaryVerdict, groupCounts, parseCanaryPolicy, startCanaryWatch, type CanaryWatch } from '../../../runtime/upgrade/canary';
import { type RunningGroup, spawnCallControl, startCallControl } from '../../support/call-control-fixture';
import { type PlacedCall, type ScenarioMediaServer, scenarioMediaServers } from '../../support/scenario-media-servers';
import { refusingPort, routeTo } from '../../support/route-tables';
import { withServerLog } from '../../support/real-freeswitch';
import { waitFor } from '../../support/wait-for';

/*
 * The canary watch counts what the media server reports over ESL, on the simulator and on the real FreeSWITCH alike:
 * the failing call-control instances are the reference service told to fail (CALL_CONTROL_FAIL_*), run as processes.
 */

/** How long a call is held before the caller hangs up: a call's duration, not a wait for a condition. */
const holdCall = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('canary watch, when it cannot see', () => {
  it('lists a media server it cannot reach as unobserved, and counts failed health checks of a member that is gone', async () => {
    const eslPort = await refusingPort();
    const healthPort = await refusingPort();
    const watch = await startCanaryWatch({
      mediaServers: [{ id: 'test/ms-gone', esl: { host: '127.0.0.1', port: eslPort, password: 'unused' } }],
      groupId: 'blue',
      healthUrls: [`http://127.0.0.1:${healthPort}/health`],
      healthIntervalMs: 20,
      connectTimeoutMs: 200,
    });
    try {
      expect(watch.observation().unobserved).toEqual(['test/ms-gone']);
      await waitFor(() => watch.observation().health[0].consecutiveFailures >= 3, { message: 'three failed health checks in a row' });
      const verdict = canaryVerdict(parseCanaryPolicy({ steps: [5], hold: { seconds: 1 } }), watch.observation(), 5_000);
      expect(verdict.outcome).toBe('fail');
      expect(verdict.reasons[0]).toMatch(new RegExp(`^http://127.0.0.1:${healthPort}/health failed [0-9]+ health check\\(s\\) in a row \\(limit 3\\): GET .* failed: .*ECONNREFUSED`));
    } finally {
      await watch.stop();
    }
  });
});

describe.each(scenarioMediaServers())('canary watch on $name', ({ start }) => {
  let server: ScenarioMediaServer;
  let routes: Awaited<ReturnType<typeof MediaServerClient.connect>>;
  let watch: CanaryWatch | undefined;
  const running: RunningGroup[] = [];
  const calls: PlacedCall[] = [];

  const track = <T extends RunningGroup>(group: T): T => {
    running.push(group);
    return group;
  };
  const healthUrl = (group: RunningGroup) => `http://127.0.0.1:${group.httpPort}/health`;
  const watchGroup = async (groupId: string, healthUrls: string[] = []) => {
    watch = await startCanaryWatch({ mediaServers: [{ id: 'test/ms-1', esl: server.eslOptions }], groupId, healthUrls, healthIntervalMs: 100 });
    expect(watch.observation().unobserved).toEqual([]);
    return watch;
  };
  const placeCall = async () => {
    const call = await server.placeCall();
    calls.push(call);
    return call;
  };
  const scenario = (body: () => Promise<void>) => () => withServerLog(server.name, () => server.logTail(), body);

  beforeAll(async () => {
    server = await start();
    routes = await MediaServerClient.connect(server.eslOptions);
  }, 60_000);

  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
    await Promise.all(calls.splice(0).map((call) => call.hangUp()));
    await waitFor(async () => (await server.legs()).mediaServer.length === 0, { timeoutMs: 15_000, message: 'every call hung up' });
    await Promise.all(running.splice(0).map((group) => group.stop()));
  }, 30_000);

  afterAll(async () => {
    await routes?.close();
    await server?.stop();
  }, 30_000);

  it(
    'counts the calls a failing version hangs up as failed for its group and not for the other, and the verdict fails it',
    scenario(async () => {
      const blue = track(await spawnCallControl('blue', '1.1.0', { CALL_CONTROL_FAIL_PERCENT: '100' }));
      const green = track(await startCallControl('green', '1.0.0', { bridgeTarget: server.farEndTarget }));
      await routes.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }, { id: 'green', ports: [green.eslPort] }));
      const canary = await watchGroup('blue', [healthUrl(blue)]);

      for (let call = 0; call < 3; call++) expect((await placeCall()).answered).toBe(false);

      await waitFor(() => groupCounts(canary.observation(), 'blue').calls === 3, { timeoutMs: 10_000, message: "blue's 3 calls counted" });
      await waitFor(() => canary.observation().health[0].checks > 0, { message: 'a health check of blue' });
      const observation = canary.observation();
      expect(groupCounts(observation, 'blue')).toEqual({ calls: 3, failedCalls: 3, shortCalls: 3, failureCauses: { NORMAL_TEMPORARY_FAILURE: 3 }, refusedConnections: 0, leftCalls: 0 });
      expect(groupCounts(observation, 'green')).toEqual(expect.objectContaining({ calls: 0, failedCalls: 0 }));
      expect(observation.health).toEqual([expect.objectContaining({ url: healthUrl(blue), failures: 0 })]);

      const policy = parseCanaryPolicy({ steps: [5], hold: { calls: 3 }, thresholds: { minCalls: 3 } });
      const verdict = canaryVerdict(policy, observation, 1_000);
      expect(verdict.outcome).toBe('fail');
      expect(verdict.reasons).toContain('3 of 3 calls of blue failed (100 %, limit 5 %): NORMAL_TEMPORARY_FAILURE ×3');
    }),
    60_000,
  );

  it(
    "counts the connections a failing version refuses against it, and the calls the next group then took as that group's",
    scenario(async () => {
      const blue = track(await spawnCallControl('blue', '1.1.0', { CALL_CONTROL_FAIL_PERCENT: '100', CALL_CONTROL_FAIL_MODE: 'refuse' }));
      const green = track(await startCallControl('green', '1.0.0', { bridgeTarget: server.farEndTarget }));
      await routes.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }, { id: 'green', ports: [green.eslPort] }));
      const canary = await watchGroup('blue');

      for (let call = 0; call < 2; call++) {
        const placed = await placeCall();
        expect(placed.answered).toBe(true);
        await placed.hangUp();
      }

      await waitFor(() => groupCounts(canary.observation(), 'green').calls === 2, { timeoutMs: 10_000, message: "green's 2 calls counted" });
      const observation = canary.observation();
      expect(groupCounts(observation, 'blue')).toEqual(expect.objectContaining({ calls: 0, refusedConnections: 2, leftCalls: 0 }));
      expect(groupCounts(observation, 'green')).toEqual(expect.objectContaining({ calls: 2, failedCalls: 0, refusedConnections: 0, leftCalls: 0 }));
      expect(canaryVerdict(parseCanaryPolicy({ steps: [5], hold: { seconds: 60 } }), observation, 1_000)).toEqual({
        outcome: 'fail',
        reasons: ['2 failed call-control connection(s) to blue (2 refused, 0 live call(s) left), more than the 0 allowed'],
      });
    }),
    60_000,
  );

  it(
    'counts a live call its group let go of, which the dialplan re-homed',
    scenario(async () => {
      const blue = track(await startCallControl('blue'));
      const green = track(await startCallControl('green', '1.0.0', { bridgeTarget: server.farEndTarget }));
      await routes.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }, { id: 'green', ports: [green.eslPort] }));
      const canary = await watchGroup('blue');

      const placed = await placeCall();
      expect(placed.answered).toBe(true);
      await blue.service.stop();

      // The re-home tries blue first again (still first in the table): its listener is closed, so that connection is refused.
      const leftThenRefused = () => {
        const counts = groupCounts(canary.observation(), 'blue');
        return counts.leftCalls === 1 && counts.refusedConnections === 1;
      };
      await waitFor(leftThenRefused, { timeoutMs: 10_000, message: 'the call blue left, and the refused re-home to blue, counted' });
      await waitFor(async () => (await green.service.status()).activeCalls === 1, { timeoutMs: 10_000, message: 'green took the re-homed call' });
      expect(await placed.isUp()).toBe(true);
      expect(groupCounts(canary.observation(), 'blue').calls).toBe(0);
    }),
    60_000,
  );

  it(
    "passes a healthy version, counting its short calls, and none of its callers' hangups as failed connections",
    scenario(async () => {
      const blue = track(await startCallControl('blue', '1.1.0', { bridgeTarget: server.farEndTarget }));
      await routes.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }));
      const canary = await watchGroup('blue', [healthUrl(blue)]);

      const short = await placeCall();
      expect(short.answered).toBe(true);
      await short.hangUp();
      const long = await placeCall();
      expect(long.answered).toBe(true);
      // Well past the 2-second threshold: FreeSWITCH stamps calls with its own timer, which lags on a starved machine.
      await holdCall(4_000);
      await long.hangUp();

      await waitFor(() => groupCounts(canary.observation(), 'blue').calls === 2, { timeoutMs: 10_000, message: "blue's 2 calls counted" });
      const observation = canary.observation();
      expect(groupCounts(observation, 'blue')).toEqual({ calls: 2, failedCalls: 0, shortCalls: 1, failureCauses: {}, refusedConnections: 0, leftCalls: 0 });
      const policy = parseCanaryPolicy({ steps: [5, 25], hold: { calls: 2 }, thresholds: { minCalls: 2, maxShortCallPercent: 50 } });
      expect(canaryVerdict(policy, observation, 3_000)).toEqual({
        outcome: 'pass',
        reasons: ['2 calls of blue: 0 failed (0 %), 1 short (50 %), 0 failed connection(s) in 3 s'],
      });
    }),
    60_000,
  );
});

import { faultyReleaseCommand } from '../../runtime/upgrade/deployers/faulty-release-command';
import { type ScenarioMediaServer, scenarioMediaServers } from '../support/scenario-media-servers';
import { withServerLog } from '../support/real-freeswitch';
import { waitFor } from '../support/wait-for';
import { startCallControlFleet } from '../support/upgrade/local-fleet-fixture';
import { startStateTable } from '../support/upgrade/state-table-fixture';
import { groupHealth, upgradeFleet } from '../support/upgrade/upgrade-harness';
import { VirtualTime } from '../support/upgrade/virtual-time';

/*
 * A canary of a bad call-control release, on the simulator and on the real FreeSWITCH (SIP calls on the media
 * server's own configuration; skipped loudly without FreeSWITCH, a failure under VOICEPLANE_REQUIRE_FREESWITCH=1):
 * the canary is judged from what the media server reports of the calls the new release took, backed out and
 * rolled back, and no other call is cut off. The steps run on virtual time (100x); calls keep real durations.
 */

/** Spaces out call arrivals to a steady rate, and holds a call for its duration; not a wait for any condition. */
const pace = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const BAD_VERSION = '1.1.0-bad';

describe.each(scenarioMediaServers())('canary upgrade on $name', ({ start }) => {
  let server: ScenarioMediaServer;

  beforeAll(async () => {
    server = await start();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  it('backs out a release that fails its calls and rolls it back; every call the good release took completes', () =>
    withServerLog(server.name, () => server.logTail(), async () => {
      const command = faultyReleaseCommand({ version: BAD_VERSION, faults: { percent: 100, mode: 'hangup' } });
      const fleet = await startCallControlFleet(server.eslOptions, { env: { ...process.env, CALL_CONTROL_BRIDGE_TARGET: server.farEndTarget }, command });
      const table = await startStateTable();
      try {
        let placing = true;
        const outcomes: Promise<string>[] = [];
        /** One call held for 2.5-3.5 s (longer than the canary's short-call threshold). */
        const heldCall = async (): Promise<string> => {
          const call = await server.placeCall();
          if (!call.answered) return `refused: ${call.refusalCause}`;
          await pace(2_500 + Math.floor(Math.random() * 1_000));
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
        await waitFor(async () => (await server.legs()).mediaServer.length >= 5, { timeoutMs: 15_000, message: 'calls up before the upgrade' }).catch((error: Error) => {
          placing = false;
          throw error;
        });
        const time = new VirtualTime(100);
        const { summary, store } = await upgradeFleet(fleet, table, {
          upgradeId: `canary-scenario-${process.pid}`,
          request: { groups: ['blue', 'green'], version: BAD_VERSION, canary: { steps: [25], hold: { seconds: 60 }, maxHoldSeconds: 3_600, thresholds: { minCalls: 3 } } },
          clock: time,
          sleep: time.sleep,
          pollMs: 2_000,
          command,
        }).finally(() => (placing = false));
        await load;
        const results = await Promise.all(outcomes);

        expect(summary.status).toBe('failed');
        expect(summary.mediaServers[0].groups.map((group) => [group.groupId, group.phase, group.error?.code])).toEqual([
          ['blue', 'rolled-back', 'CanaryFailed'],
          ['green', 'pending', undefined],
        ]);
        const failed = (await store.audit(`canary-scenario-${process.pid}`)).flatMap((entry) => (entry.event.type === 'canary' && entry.event.verdict === 'fail' ? [entry.event] : []));
        expect(failed).toEqual([expect.objectContaining({ share: 25, reasons: expect.arrayContaining([expect.stringMatching(/^(\d+) of \1 calls of blue failed \(100 %, limit 5 %\): NORMAL_TEMPORARY_FAILURE ×\1$/)]) })]);
        expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.0.0', acceptingCalls: true })]);
        expect(await groupHealth(fleet, 'green')).toEqual([expect.objectContaining({ version: '1.0.0', acceptingCalls: true })]);
        expect((await fleet.routes())?.groups.map((group) => [group.id, group.state, group.share])).toEqual([
          ['blue', 'active', undefined],
          ['green', 'active', undefined],
        ]);
        // The bad release's own hangups are refusals the caller saw; no call that was answered was cut off.
        expect(results.filter((result) => result === 'dropped')).toEqual([]);
        expect(results.filter((result) => result === 'completed').length).toBeGreaterThan(10);
        expect(results.filter((result) => result.startsWith('refused')).length).toBeGreaterThanOrEqual(3);
      } finally {
        await fleet.stop();
        await table.close();
      }
    }),
  120_000);
});

import { EslClient } from '../../runtime/esl';
import { LocalFreeSwitch } from '../../runtime/local-freeswitch/local-freeswitch';
import { farEndDialString } from '../../runtime/local-freeswitch/carrier-profile';
import { NORMAL_CLEARING_BEFORE_DURATION, startSipCallLoad } from '../../runtime/local-freeswitch/sip-call-load';
import { MediaServerClient } from '../../runtime/media-server';
import { tallyCalls } from '../../runtime/upgrade/progress/call-tally';
import { type RunningGroup, startCallControl } from '../support/call-control-fixture';
import { channelRows, describeWithFreeSwitch, isFarEndLeg, isMediaServerLeg, withServerLog } from '../support/real-freeswitch';
import { refusingPort } from '../support/route-tables';
import { waitFor } from '../support/wait-for';

/* The SIP call load the demo runs on the real FreeSWITCH: carrier calls into the media server's profile, bridged by call control to the carrier's far end. */

type ConnectedClient = Awaited<ReturnType<typeof MediaServerClient.connect>>;

/** Long enough that only a kill ends the call while the test runs. */
const LONG_CALL_MS = 60_000;

describeWithFreeSwitch('the SIP call load on the real FreeSWITCH', () => {
  let freeswitch: LocalFreeSwitch;
  let esl: EslClient;
  let client: ConnectedClient;
  let blue: RunningGroup | undefined;

  const routeToBlue = async () => {
    blue = await startCallControl('blue', '1.0.0', { bridgeTarget: farEndDialString(freeswitch) });
    await client.setRoutes({ groups: [{ id: 'blue', endpoints: [{ host: '127.0.0.1', port: blue.eslPort }], state: 'active' }] });
  };
  /** The one call's channels once it is bridged: the media server's leg from the carrier and the carrier's far end. */
  const bridgedCall = async () => {
    // The far end as the carrier answered it: the carrier profile's inbound leg named after the caller (it shows
    // up a moment after the media server's outbound leg, so both are waited for).
    const isCarrierFarEnd = (row: { name: string }) => row.name.startsWith('sofia/carrier/5550100@');
    let rows = await channelRows(esl);
    await waitFor(
      async () => {
        rows = await channelRows(esl);
        return rows.some(isFarEndLeg) && rows.some(isMediaServerLeg) && rows.some(isCarrierFarEnd);
      },
      { timeoutMs: 10_000, message: 'the call is bridged to the far end' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}: expected both legs of the call, got ${rows.map((row) => row.name).join(', ')}`);
    });
    return { mediaServerLeg: rows.find(isMediaServerLeg)!, farEnd: rows.find(isCarrierFarEnd)! };
  };

  beforeAll(async () => {
    freeswitch = await LocalFreeSwitch.start();
    esl = await EslClient.connect(freeswitch.eslOptions);
    client = await MediaServerClient.connect(freeswitch.eslOptions);
  }, 60_000);

  afterEach(async () => {
    await esl.api('hupall NORMAL_CLEARING').catch(() => undefined);
    await waitFor(async () => (await channelRows(esl)).length === 0, { timeoutMs: 15_000, message: 'every channel hung up' });
    await blue?.stop();
    blue = undefined;
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await esl?.close();
    await freeswitch?.stop();
  }, 30_000);

  it('reports a call the media server refuses (no group takes it) as rejected, with the cause', () =>
    withServerLog(`FreeSWITCH (${freeswitch.logFile})`, () => freeswitch.logTail(80), async () => {
      await client.setRoutes({ groups: [{ id: 'blue', endpoints: [{ host: '127.0.0.1', port: await refusingPort() }], state: 'active' }] });

      const load = await startSipCallLoad(freeswitch, { count: 1, ratePerSecond: 10, durationMs: () => 1_000 });

      expect(await load.outcomes()).toEqual([{ answered: false, rejected: true, hangupCause: 'NORMAL_TEMPORARY_FAILURE' }]);
    }));

  it('holds an answered call, bridged to the far end, for its duration, then hangs up: NORMAL_CLEARING', () =>
    withServerLog(`FreeSWITCH (${freeswitch.logFile})`, () => freeswitch.logTail(80), async () => {
      await routeToBlue();
      const startedAt = Date.now();

      const load = await startSipCallLoad(freeswitch, { count: 1, ratePerSecond: 10, durationMs: () => 2_000 });
      await bridgedCall();
      const outcomes = await load.outcomes();

      expect(outcomes).toEqual([{ answered: true, rejected: false, hangupCause: 'NORMAL_CLEARING' }]);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2_000);
      expect(tallyCalls(outcomes)).toMatchObject({ placed: 1, completed: 1, dropped: 0, refused: 0 });
    }));

  it('reports a call whose media server leg is hung up early with that cause: a drop', () =>
    withServerLog(`FreeSWITCH (${freeswitch.logFile})`, () => freeswitch.logTail(80), async () => {
      await routeToBlue();
      const load = await startSipCallLoad(freeswitch, { count: 1, ratePerSecond: 10, durationMs: () => LONG_CALL_MS });
      const { mediaServerLeg } = await bridgedCall();

      await esl.api(`uuid_kill ${mediaServerLeg.uuid} CALL_REJECTED`);
      const outcomes = await load.outcomes();

      expect(outcomes).toEqual([{ answered: true, rejected: false, hangupCause: 'CALL_REJECTED' }]);
      expect(tallyCalls(outcomes)).toMatchObject({ placed: 1, completed: 0, dropped: 1, refused: 0 });
    }));

  it('counts a call the far end hangs up early as a drop, although the caller sees NORMAL_CLEARING', () =>
    withServerLog(`FreeSWITCH (${freeswitch.logFile})`, () => freeswitch.logTail(80), async () => {
      await routeToBlue();
      const load = await startSipCallLoad(freeswitch, { count: 1, ratePerSecond: 10, durationMs: () => LONG_CALL_MS });
      const { farEnd } = await bridgedCall();

      await esl.api(`uuid_kill ${farEnd.uuid}`);
      const outcomes = await load.outcomes();

      expect(outcomes).toEqual([{ answered: true, rejected: false, hangupCause: NORMAL_CLEARING_BEFORE_DURATION }]);
      expect(tallyCalls(outcomes)).toMatchObject({ placed: 1, completed: 0, dropped: 1, refused: 0 });
    }));

  it('places calls at the rate until cancelled, then reports exactly the calls it placed once they ended', () =>
    withServerLog(`FreeSWITCH (${freeswitch.logFile})`, () => freeswitch.logTail(80), async () => {
      await routeToBlue();
      const load = await startSipCallLoad(freeswitch, { count: 1_000, ratePerSecond: 10, durationMs: () => 300 });
      await waitFor(async () => (await client.groupCallCount('blue')) > 0, { timeoutMs: 10_000, message: 'blue has a call' });

      load.cancel();
      const outcomes = await load.outcomes();

      expect(outcomes.length).toBeGreaterThan(0);
      expect(outcomes.length).toBeLessThan(1_000);
      expect(tallyCalls(outcomes)).toMatchObject({ placed: outcomes.length, completed: outcomes.length });
    }));
});

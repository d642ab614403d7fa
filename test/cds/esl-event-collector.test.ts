import { CdsCluster, type ClusterSite } from '../support/cds/cds-cluster';
import { FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { waitFor } from '../support/wait-for';

// Each site's node collects events from its own simulated media server.

const DIALPLAN = `<include><context name="default">
  <extension name="any"><condition field="destination_number" expression="^(.*)$">
    <action application="set" data="vp_cc_group=blue"/>
    <action application="answer"/>
    <action application="bridge" data="sofia/gateway/pstn/$1"/>
  </condition></extension>
</context></include>`;

const simulators = new Map<string, FreeSwitchSimulator>();
let cluster: CdsCluster;
let west: ClusterSite;
let east: ClusterSite;

beforeAll(async () => {
  const eslPorts = new Map<string, number>();
  for (const site of ['west', 'east']) {
    const simulator = new FreeSwitchSimulator({ dialplanXml: DIALPLAN, hostname: `ms-${site}` });
    eslPorts.set(site, (await simulator.start()).eslPort);
    simulators.set(site, simulator);
  }
  cluster = await CdsCluster.start(['west', 'east'], undefined, (site) => ({
    mediaServers: [{ host: '127.0.0.1', port: eslPorts.get(site) ?? 0, password: 'ClueCon' }],
  }));
  [west, east] = [cluster.site('west'), cluster.site('east')];
  await waitFor(() => [west, east].every((site) => site.log.some((entry) => entry.msg === 'collecting events from media server')), { message: 'both collectors to connect' });
});

afterAll(async () => {
  await cluster.stop();
  for (const simulator of simulators.values()) await simulator.stop();
});

describe('ESL event collector', () => {
  it("records a call from its switch's events and ends it when the originating leg hangs up", async () => {
    const call = simulators.get('west')?.placeCall({ destination: '1000', callerIdNumber: '+15550100', durationMs: 300 });
    const callId = `west:${call?.uuid}`;
    await waitFor(async () => (await west.client.call(callId))?.properties.answeredAt !== undefined, { message: 'the answer time' });
    await waitFor(async () => (await west.client.call(callId))?.state === 'ended', { message: 'the end of call', timeoutMs: 5000 });
    const view = await west.client.call(callId);
    expect(view?.properties).toMatchObject({
      caller: { value: '+15550100', site: 'west' },
      callee: { value: '1000' },
      mediaServer: { value: 'ms-west' },
      callControlGroup: { value: 'blue' },
      hangupCause: { value: expect.any(String) },
      billsec: { value: expect.any(Number) },
    });
    await waitFor(async () => (await west.archive.read(callId)) !== undefined, { message: 'the archive record' });
  });

  it('registers with the owner when a call arrives with a foreign call id', async () => {
    const callId = 'west:from-elsewhere-1';
    await west.client.register(callId, 'keeps-it-open');
    await west.client.put(callId, 'caller', '+15550123');
    const eastSwitch = simulators.get('east');
    const call = eastSwitch?.placeCall({ destination: '2000', variables: { vp_call_id: callId } });
    await waitFor(async () => (await west.client.participants(callId)).remote.includes('east'), { message: 'east to register with west' });
    await waitFor(async () => (await west.client.call(callId))?.properties['east.answeredAt'] !== undefined, { message: "east's answer time at west" });
    await waitFor(async () => (await east.client.call(callId))?.properties.caller !== undefined, { message: "west's data at east" });
    expect((await west.client.call(callId))?.properties['east.mediaServer']).toMatchObject({ value: 'ms-east', site: 'east' });

    expect(eastSwitch?.killCall(call?.uuid ?? '')).toBe(true);
    await waitFor(async () => (await west.client.call(callId))?.properties['east.hangupCause'] !== undefined, { message: "east's hangup cause at west" });
    await waitFor(async () => (await west.client.participants(callId)).remote.length === 0, { message: 'east to unregister after its leg hung up' });
    expect((await west.client.call(callId))?.state).toBe('active');
  });
});

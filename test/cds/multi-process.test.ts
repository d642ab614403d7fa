import { cdsRequest } from '../support/cds/cds-http';
import { convergenceViolations } from '../support/cds/convergence-checker';
import { ProcessCluster, type ProcessSite } from '../support/cds/process-cluster';
import { RecordingWriter } from '../support/cds/recording-writer';
import { sendSigned, signPeerRequest } from '../support/cds/signed-peer-request';
import { waitFor } from '../support/wait-for';

// Three `cds serve` processes, each over its own dynalite; nodes are SIGKILLed and restarted mid-call.

let cluster: ProcessCluster;
let west: ProcessSite;
let east: ProcessSite;
let north: ProcessSite;

beforeAll(async () => {
  cluster = await ProcessCluster.start(['west', 'east', 'north'], { heartbeatMs: 100, expiryMs: 5_000, endGraceMs: 1_000 });
  [west, east, north] = ['west', 'east', 'north'].map((id) => cluster.site(id));
});
afterAll(() => cluster.stop());

async function quiescent(): Promise<void> {
  await waitFor(async () => (await Promise.all(cluster.all.map((site) => site.client.health()))).every((health) => health.deliveriesIdle === true), {
    message: 'every node to have delivered everything',
    timeoutMs: 10_000,
  });
}

describe('CDS nodes as separate processes', () => {
  it('loses nothing acknowledged when the owner, then a participant holding undelivered writes, is SIGKILLed and restarted', async () => {
    const callId = 'west:killed-mid-call';
    const writer = new RecordingWriter();
    await writer.put(west, callId, 'caller', '+15550100');
    await east.client.register(callId, 'agent');
    await north.client.register(callId, 'supervisor');
    await Promise.all([writer.put(east, callId, 'crm.note', 'first note'), writer.log(north, callId, 'supervisor listening'), writer.put(west, callId, 'answeredAt', 1)]);

    await west.process.kill();
    await writer.put(east, callId, 'crm.note', 'written while the owner was down');
    await writer.log(north, callId, 'still listening');
    await cluster.startSite('west');
    await writer.put(west, callId, 'recording', 'on');
    await quiescent();

    cluster.partition('east');
    await writer.put(east, callId, 'disposition', 'sale, held only by east');
    await east.process.kill();
    cluster.heal('east');
    await cluster.startSite('east');
    await waitFor(async () => (await west.client.call(callId))?.properties.disposition !== undefined, { message: "east's undelivered write to reach the owner after east's restart", timeoutMs: 20_000 });

    await writer.put(north, callId, 'final', 'yes');
    await quiescent();
    expect(await west.client.end(callId)).toMatchObject({ status: 200 });
    await waitFor(async () => (await west.archive.read(callId)) !== undefined, { message: 'the archive record' });
    await quiescent();
    expect(await convergenceViolations(cluster.all, [{ callId, participants: ['east', 'north'] }], writer.acknowledged)).toEqual([]);
  });

  it('refuses replayed and unauthenticated peer requests', async () => {
    const callId = 'west:replayed';
    await west.client.put(callId, 'kept', 'yes');
    const before = await west.client.call(callId);
    const port = west.process.peerPort ?? 0;
    const later = (before?.properties.kept.ts ?? 0) + 1;
    expect((await sendSigned(port, signPeerRequest('east', 'west', '/v1/peer/register', { callId, site: 'east' }))).status).toBe(200);
    const update = signPeerRequest('east', 'west', '/v1/peer/updates', { callId, site: 'east', entries: [{ kind: 'property', name: 'kept', value: 'no', ts: later, site: 'east' }] });
    expect((await sendSigned(port, update)).status).toBe(200);
    expect(await sendSigned(port, update)).toMatchObject({ status: 401, body: { error: 'unauthenticated: replayed request' } });
    expect(await cdsRequest(port, 'POST', '/v1/peer/updates', update.body)).toMatchObject({ status: 401 });
    const after = await west.client.call(callId);
    expect(after?.properties.kept).toEqual({ value: 'no', ts: later, site: 'east' });
    expect(Object.keys(after?.properties ?? {})).toEqual(Object.keys(before?.properties ?? {}));
  });
});

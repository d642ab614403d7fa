import { CdsCluster, type ClusterSite } from '../support/cds/cds-cluster';
import { convergenceViolations, type CheckedCall } from '../support/cds/convergence-checker';
import { EventStreamReader } from '../support/cds/event-stream-reader';
import { RecordingWriter } from '../support/cds/recording-writer';
import { waitFor } from '../support/wait-for';

// The model of the issue, one scenario at a time, on three in-process sites (each with its own dynalite).

let cluster: CdsCluster;
let west: ClusterSite;
let east: ClusterSite;
let north: ClusterSite;
let counter = 0;
const newCallId = (owner = 'west'): string => `${owner}:repl-${++counter}`;

beforeAll(async () => {
  cluster = await CdsCluster.start(['west', 'east', 'north']);
  [west, east, north] = ['west', 'east', 'north'].map((id) => cluster.site(id));
});
afterAll(() => cluster.stop());

async function quiescent(): Promise<void> {
  await waitFor(() => cluster.all.every((site) => site.runningNode.deliveriesIdle), { message: 'deliveries to finish' });
}

async function expectConverged(writer: RecordingWriter, calls: CheckedCall[]): Promise<void> {
  await quiescent();
  expect(await convergenceViolations(cluster.all, calls, writer.acknowledged)).toEqual([]);
}

/** Bytes of updates, single or batched. */
function updatesBytesSentBy(site: ClusterSite): number {
  const sent = site.runningNode.health().sent as Record<string, { bytes: number }>;
  return (sent['/v1/peer/updates']?.bytes ?? 0) + (sent['/v1/peer/updates-batch']?.bytes ?? 0);
}

describe('replication between sites', () => {
  it('answers a registration with everything held, then sends only the entries that changed', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    const bulky = 'x'.repeat(2000);
    for (const name of ['a', 'b', 'c']) await writer.put(west, callId, name, bulky);
    const registered = await east.client.register(callId, 'agent');
    expect(registered.body).toMatchObject({ upstream: 'registered', call: { properties: { a: { value: bulky }, b: { value: bulky }, c: { value: bulky } } } });
    expect(await west.client.participants(callId)).toMatchObject({ remote: ['east'] });
    expect(await east.client.register(callId, 'second-client')).toMatchObject({ status: 201, body: { upstream: 'registered' } });

    const stream = await EventStreamReader.open(east.runningNode.port, callId);
    await quiescent();
    const before = updatesBytesSentBy(west);
    await writer.put(west, callId, 'b', 'changed');
    await waitFor(() => stream.named('update').length === 1, { message: 'the update at east' });
    stream.close();
    expect(stream.named('update')[0]).toMatchObject({ properties: { b: { value: 'changed', site: 'west' } }, logs: [] });
    expect(Object.keys((stream.named('update')[0] as { properties: object }).properties)).toEqual(['b']);
    expect(updatesBytesSentBy(west) - before).toBeLessThan(1000);
    await expectConverged(writer, [{ callId, participants: ['east'] }]);
  });

  it('sends a registrant the delta once, in the registration reply, not again as updates', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    const bulky = 'x'.repeat(2000);
    for (const name of ['a', 'b', 'c']) await writer.put(west, callId, name, bulky);
    await quiescent();
    const before = updatesBytesSentBy(west);
    const registered = await east.client.register(callId, 'agent');
    expect(registered.body).toMatchObject({ upstream: 'registered', call: { properties: { a: { value: bulky }, b: { value: bulky }, c: { value: bulky } } } });
    await quiescent();
    expect(updatesBytesSentBy(west) - before).toBeLessThan(bulky.length);
    await expectConverged(writer, [{ callId, participants: ['east'] }]);
  });

  it("holds a registration for a call the owner has not seen yet as pending, and registers once the owner's collector has it", async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    // A client at a participant site can be quicker than the owner's collector: the owner refuses to create the call.
    expect(await east.client.register(callId, 'crm')).toMatchObject({ status: 201, body: { upstream: 'pending' } });
    expect(await east.client.participants(callId)).toMatchObject({ local: ['crm'], upstream: 'pending' });
    await writer.put(east, callId, 'crm.note', 'written before the owner knew the call');
    expect(await west.client.call(callId)).toBeUndefined();

    await writer.put(west, callId, 'caller', '+15550100');
    await waitFor(async () => (await east.client.participants(callId)).upstream === 'registered', { message: "east's pending registration to be taken" });
    expect(await west.client.participants(callId)).toMatchObject({ remote: ['east'] });
    await expectConverged(writer, [{ callId, participants: ['east'] }]);
    expect((await west.client.call(callId))?.properties['crm.note']).toMatchObject({ site: 'east' });
  });

  it("sends a participant's writes to the owner, which records them and fans them out to the other participants", async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await writer.put(west, callId, 'caller', '+15550100');
    await east.client.register(callId, 'crm');
    await north.client.register(callId, 'supervisor');
    await writer.put(east, callId, 'crm.note', 'customer is upset');
    await writer.log(north, callId, 'supervisor joined');
    await writer.put(west, callId, 'callee', '1000');
    await waitFor(async () => (await north.client.call(callId))?.properties['crm.note'] !== undefined, { message: "east's note at north" });
    expect((await north.client.call(callId))?.properties['crm.note']).toMatchObject({ value: 'customer is upset', site: 'east' });
    await expectConverged(writer, [{ callId, participants: ['east', 'north'] }]);
  });

  it('lets the latest write of a property win everywhere and keeps every log entry once', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await writer.put(west, callId, 'caller', '+15550100');
    await east.client.register(callId, 'a');
    await north.client.register(callId, 'b');
    const sites = [west, east, north];
    await Promise.all(
      sites.flatMap((site) =>
        Array.from({ length: 5 }, async (_, index) => {
          await writer.put(site, callId, 'status', `${site.id}-${index}`);
          await writer.log(site, callId, `${site.id} log ${index}`);
        }),
      ),
    );
    await expectConverged(writer, [{ callId, participants: ['east', 'north'] }]);
    const view = await west.client.call(callId);
    expect(view?.logs).toHaveLength(15);
    expect(new Set(view?.logs.map((log) => log.id)).size).toBe(15);
  });

  it('keeps an offset to each owner from the time in its replies', async () => {
    await waitFor(() => Object.values(east.runningNode.health().peers as Record<string, { offsetMs: number | null }>).every((peer) => peer.offsetMs !== null), { message: 'offsets to every peer' });
    const offsets = Object.values(east.runningNode.health().peers as Record<string, { offsetMs: number }>).map((peer) => Math.abs(peer.offsetMs));
    expect(Math.max(...offsets)).toBeLessThan(250);
  });

  it('ends a call at the owner: participants get the final record, the archive gets it once', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await writer.put(west, callId, 'caller', '+15550100');
    await east.client.register(callId, 'agent');
    const stream = await EventStreamReader.open(east.runningNode.port, callId);
    await writer.put(east, callId, 'disposition', 'sale');
    await writer.put(west, callId, 'hangupCause', 'NORMAL_CLEARING');
    await waitFor(async () => (await east.client.call(callId))?.properties.hangupCause !== undefined, { message: 'the hangup cause at east' });
    await west.client.end(callId);
    await waitFor(() => stream.named('ended').length === 1, { message: 'the end at east' });
    stream.close();
    await waitFor(async () => (await west.archive.read(callId)) !== undefined, { message: 'the archive record' });
    expect((await east.client.put(callId, 'late', 1).catch((error: Error) => error.message)) as string).toMatch(/409/);
    await expectConverged(writer, [{ callId, participants: ['east'] }]);
  });

  it('waits for a re-registration after the last participant leaves, then ends the call', async () => {
    const kept = newCallId();
    const abandoned = newCallId();
    await west.client.put(kept, 'caller', '+15550100');
    await west.client.put(abandoned, 'caller', '+15550101');
    await east.client.register(kept, 'agent');
    await east.client.unregister(kept, 'agent');
    await waitFor(async () => (await west.client.participants(kept)).remote.length === 0, { message: 'east to unregister' });
    await east.client.register(abandoned, 'agent');
    await east.client.unregister(abandoned, 'agent');
    await east.client.register(kept, 'agent');
    await waitFor(async () => (await west.client.participants(kept)).remote.length === 1, { message: 'east to register again' });

    // The abandoned call's grace started after the kept call's: once it has ended, the kept call's grace is over too.
    await waitFor(async () => (await west.client.call(abandoned))?.state === 'ended', { message: 'the grace to end the abandoned call' });
    expect((await west.client.call(kept))?.state).toBe('active');
    await waitFor(async () => (await west.archive.read(abandoned)) !== undefined, { message: 'the archive record' });
  });
});

import { CdsCluster, FAST_TIMERS, type ClusterSite } from '../support/cds/cds-cluster';
import { convergenceViolations, type CheckedCall } from '../support/cds/convergence-checker';
import { RecordingWriter } from '../support/cds/recording-writer';
import { waitFor } from '../support/wait-for';

// The link between an owner (west) and a participant (east) is cut, for less and for more than the expiry, with
// writes on both sides during the cut: once it heals, both hold the same record and nothing acknowledged is lost.

let cluster: CdsCluster;
let west: ClusterSite;
let east: ClusterSite;
let counter = 0;
const newCallId = (): string => `west:cut-${++counter}`;

/** Long enough for a partition to outlast the expiry on both sides, with room for a slow machine. */
const PAST_EXPIRY_MS = FAST_TIMERS.expiryMs * 4;

beforeAll(async () => {
  cluster = await CdsCluster.start(['west', 'east']);
  [west, east] = ['west', 'east'].map((id) => cluster.site(id));
});
afterAll(() => cluster.stop());

async function expectConverged(writer: RecordingWriter, calls: CheckedCall[]): Promise<void> {
  await waitFor(() => cluster.all.every((site) => site.runningNode.deliveriesIdle), { message: 'deliveries to finish' });
  expect(await convergenceViolations(cluster.all, calls, writer.acknowledged)).toEqual([]);
}

function peerHealth(site: ClusterSite, peer: string): string {
  return (site.runningNode.health().peers as Record<string, { health: string }>)[peer].health;
}

/** Cuts the link, runs `during`, waits until both sides have expired each other, then heals the link. */
async function cutPastExpiry(callId: string, during: () => Promise<void>): Promise<void> {
  cluster.partition('east');
  await during();
  await waitFor(async () => (await west.client.participants(callId)).remote.length === 0, { message: 'west to drop east', timeoutMs: PAST_EXPIRY_MS });
  await waitFor(async () => (await east.client.participants(callId)).upstream === 'expired', { message: "east's registration to lapse", timeoutMs: PAST_EXPIRY_MS });
  cluster.heal('east');
}

describe('a cut link between an owner and a participant', () => {
  it('converges after a cut shorter than the expiry', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await west.client.register(callId, 'switch');
    await east.client.register(callId, 'agent');
    await writer.put(west, callId, 'caller', '+15550100');
    cluster.partition('east');
    await waitFor(() => peerHealth(west, 'east') === 'suspected', { message: 'west to suspect an outage' });
    await writer.put(west, callId, 'answeredAt', 1234);
    await writer.put(east, callId, 'crm.note', 'written during the cut');
    await writer.log(east, callId, 'east kept working');
    expect(peerHealth(west, 'east')).toBe('suspected');
    cluster.heal('east');
    await waitFor(() => peerHealth(west, 'east') === 'alive' && peerHealth(east, 'west') === 'alive', { message: 'both sides to hear each other' });
    await expectConverged(writer, [{ callId, participants: ['east'] }]);
    expect(await west.client.participants(callId)).toMatchObject({ remote: ['east'] });
  });

  it('re-registers a participant whose client is still there after a cut past the expiry; both sides converge', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await west.client.register(callId, 'switch');
    await east.client.register(callId, 'agent');
    await writer.put(west, callId, 'caller', '+15550100');
    await cutPastExpiry(callId, async () => {
      await writer.put(west, callId, 'answeredAt', 1234);
      await writer.put(east, callId, 'crm.note', 'written during the cut');
      await writer.log(east, callId, 'east kept working');
    });

    await waitFor(async () => (await west.client.participants(callId)).remote.includes('east'), { message: 'east to register with west again', timeoutMs: 10_000 });
    await writer.put(west, callId, 'after', 'the cut');
    await waitFor(async () => (await east.client.call(callId))?.properties.after !== undefined, { message: "west's write after the cut at east" });
    expect(await east.client.participants(callId)).toMatchObject({ upstream: 'registered' });
    await expectConverged(writer, [{ callId, participants: ['east'] }]);

    await west.client.end(callId);
    await waitFor(async () => (await west.archive.read(callId)) !== undefined, { message: 'the archive record' });
    await waitFor(async () => (await east.client.call(callId))?.state === 'ended', { message: 'the end at east' });
    await expectConverged(writer, [{ callId, participants: ['east'] }]);
    expect((await west.archive.read(callId))?.view.properties['crm.note']).toMatchObject({ value: 'written during the cut', site: 'east' });
  });

  it("keeps a participant's writes acknowledged during a cut past the expiry when the owner ended the call meanwhile", async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await writer.put(west, callId, 'caller', '+15550100');
    await east.client.register(callId, 'agent');
    await waitFor(async () => (await east.client.call(callId))?.properties.caller !== undefined, { message: 'the caller at east' });
    await cutPastExpiry(callId, async () => {
      await writer.put(east, callId, 'disposition', 'sale');
      await writer.log(east, callId, 'customer agreed');
      // West has no client of its own: with east gone, it ends the call after the grace and archives it.
      await waitFor(async () => (await west.archive.read(callId)) !== undefined, { message: 'west to end and archive the call', timeoutMs: PAST_EXPIRY_MS });
    });

    await waitFor(async () => (await west.archive.read(callId))?.view.properties.disposition !== undefined, { message: "east's write in the archive", timeoutMs: 10_000 });
    await waitFor(async () => (await east.client.call(callId))?.state === 'ended', { message: 'the end at east' });
    await expectConverged(writer, [{ callId, participants: ['east'] }]);
    const archived = await west.archive.read(callId);
    expect(archived?.view.properties.disposition).toMatchObject({ value: 'sale', site: 'east' });
    expect(archived?.view.logs.map((log) => log.entry)).toEqual(['customer agreed']);
    expect((await west.client.call(callId))?.state).toBe('ended');
  });
});

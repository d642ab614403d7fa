import { CdsCluster, type ClusterSite } from '../support/cds/cds-cluster';
import { convergenceViolations, type CheckedCall } from '../support/cds/convergence-checker';
import { EventStreamReader } from '../support/cds/event-stream-reader';
import { RecordingWriter } from '../support/cds/recording-writer';
import { waitFor } from '../support/wait-for';

// The end of a call on three in-process sites: writes racing the end, and records too large for one message.

let cluster: CdsCluster;
let west: ClusterSite;
let east: ClusterSite;
let north: ClusterSite;
let counter = 0;
const newCallId = (): string => `west:end-${++counter}`;

beforeAll(async () => {
  cluster = await CdsCluster.start(['west', 'east', 'north']);
  [west, east, north] = ['west', 'east', 'north'].map((id) => cluster.site(id));
});
afterAll(() => cluster.stop());

async function expectConvergedAndArchived(writer: RecordingWriter, calls: CheckedCall[]): Promise<void> {
  for (const { callId } of calls) await waitFor(async () => (await west.archive.read(callId)) !== undefined, { message: `the archive record of ${callId}` });
  await waitFor(async () => (await convergenceViolations(cluster.all, calls, writer.acknowledged)).length === 0, { message: 'every view to equal the archived record', intervalMs: 100 });
  expect(await convergenceViolations(cluster.all, calls, writer.acknowledged)).toEqual([]);
}

function endBytesSentBy(site: ClusterSite): number {
  const sent = site.runningNode.health().sent as Record<string, { bytes: number }>;
  return sent['/v1/peer/end']?.bytes ?? 0;
}

describe('end of call', () => {
  it("keeps a participant's acknowledged writes racing the end: in the archive and in every view", async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await writer.put(west, callId, 'caller', '+15550100');
    await east.client.register(callId, 'esl:leg-b');
    await north.client.register(callId, 'supervisor');
    await waitFor(async () => (await north.client.call(callId))?.properties.caller !== undefined, { message: 'the caller at north' });

    // Both legs hang up at once: east's hangup data is acknowledged locally while the owner ends the call.
    cluster.partition('east');
    await writer.put(east, callId, 'east.hangupCause', 'NORMAL_CLEARING');
    await writer.log(east, callId, 'leg b hung up');
    await west.client.end(callId);
    cluster.heal('east');

    await expectConvergedAndArchived(writer, [{ callId, participants: ['east', 'north'] }]);
    const archived = await west.archive.read(callId);
    expect(archived?.view).toMatchObject({ state: 'ended', properties: { 'east.hangupCause': { value: 'NORMAL_CLEARING', site: 'east' } }, logs: [{ entry: 'leg b hung up', site: 'east' }] });
    expect((await north.client.call(callId))?.properties['east.hangupCause']).toMatchObject({ value: 'NORMAL_CLEARING' });
  });

  it('refuses local writes at a participant once the owner is ending the call, rather than acknowledging and losing them', async () => {
    const callId = newCallId();
    await west.client.put(callId, 'caller', '+15550100');
    await east.client.register(callId, 'agent');
    await west.client.end(callId);
    await waitFor(async () => (await east.client.call(callId))?.state === 'ended', { message: 'the end at east' });
    expect((await east.client.put(callId, 'late', 1).catch((error: Error) => error.message)) as string).toMatch(/409/);
  });

  it('ends a call without sending its record in one message, so a large record still reaches every participant', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await writer.put(west, callId, 'caller', '+15550100');
    await east.client.register(callId, 'agent');
    const stream = await EventStreamReader.open(east.runningNode.port, callId);
    try {
      for (let batch = 0; batch < 4; batch++) {
        // The last batch is still owed to east when the call ends.
        if (batch === 3) cluster.partition('east');
        await Promise.all(Array.from({ length: 50 }, (_, index) => writer.log(west, callId, { step: batch * 50 + index, detail: 'y'.repeat(1000) })));
      }
      const endBytesBefore = endBytesSentBy(west);
      await west.client.end(callId);
      cluster.heal('east');
      await expectConvergedAndArchived(writer, [{ callId, participants: ['east'] }]);
      await waitFor(() => stream.named('ended').length === 1, { message: 'the end at east' });
      expect((stream.named('ended')[0] as { logs: unknown[] }).logs).toHaveLength(200);
      expect(endBytesSentBy(west) - endBytesBefore).toBeLessThan(10_000);
    } finally {
      stream.close();
    }
  });
});

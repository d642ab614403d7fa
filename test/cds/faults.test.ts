import { CdsCluster, FAST_TIMERS, type ClusterSite } from '../support/cds/cds-cluster';
import { convergenceViolations, type CheckedCall } from '../support/cds/convergence-checker';
import { EventStreamReader } from '../support/cds/event-stream-reader';
import { RecordingWriter } from '../support/cds/recording-writer';
import { waitFor } from '../support/wait-for';

// Faults on three in-process sites: partitions shorter and longer than the expiry, a restarted participant, skewed clocks.

let cluster: CdsCluster;
let west: ClusterSite;
let east: ClusterSite;
let north: ClusterSite;
let counter = 0;
const newCallId = (): string => `west:fault-${++counter}`;

beforeAll(async () => {
  cluster = await CdsCluster.start(['west', 'east', 'north']);
  [west, east, north] = ['west', 'east', 'north'].map((id) => cluster.site(id));
});
afterAll(() => cluster.stop());

async function expectConverged(writer: RecordingWriter, calls: CheckedCall[]): Promise<void> {
  await waitFor(() => cluster.all.every((site) => site.runningNode.deliveriesIdle), { message: 'deliveries to finish' });
  expect(await convergenceViolations(cluster.all, calls, writer.acknowledged)).toEqual([]);
}

function peerHealth(site: ClusterSite, peer: string): { health: string; silentMs: number; offsetMs: number | null } {
  return (site.runningNode.health().peers as Record<string, { health: string; silentMs: number; offsetMs: number | null }>)[peer];
}

function registrationsLogged(owner: ClusterSite, callId: string, site: string): Array<{ since: number; entries: number }> {
  return owner.log
    .filter((entry) => entry.msg === 'participant registered' && entry.fields.callId === callId && entry.fields.site === site)
    .map((entry) => ({ since: Number(entry.fields.since), entries: Number(entry.fields.entries) }));
}

describe('faults', () => {
  it('reports a silent peer, and after a partition shorter than the expiry resyncs the delta with nothing lost', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await writer.put(west, callId, 'caller', '+15550100');
    await east.client.register(callId, 'agent');
    await north.client.register(callId, 'supervisor');
    await writer.put(east, callId, 'crm.note', 'before');
    await waitFor(() => east.runningNode.deliveriesIdle && west.runningNode.deliveriesIdle, { message: 'the first writes to settle' });

    const registrationsBefore = registrationsLogged(west, callId, 'east').length;
    cluster.partition('east');
    await waitFor(() => peerHealth(west, 'east').health === 'suspected', { message: 'west to report east as a possible outage' });
    expect(west.log.some((entry) => entry.msg === 'peer silent: possible network outage' && entry.fields.peer === 'east')).toBe(true);
    await writer.put(west, callId, 'answeredAt', 1234);
    await writer.put(north, callId, 'supervisor.note', 'listening');
    await writer.put(east, callId, 'crm.note', 'written during the partition');
    await writer.log(east, callId, 'east kept working');
    cluster.heal('east');

    await waitFor(() => registrationsLogged(west, callId, 'east').length > registrationsBefore, { message: 'east to re-register' });
    const again = registrationsLogged(west, callId, 'east')[registrationsBefore];
    expect(again.since).toBeGreaterThan(0);
    expect(again.entries).toBe(2);
    await expectConverged(writer, [{ callId, participants: ['east', 'north'] }]);
    expect((await east.client.call(callId))?.properties['crm.note'].value).toBe('written during the partition');
  });

  it('drops a participant silent for longer than the expiry: it gets nothing more until it registers again', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await west.client.register(callId, 'keeps-the-call-open');
    await east.client.register(callId, 'agent');
    const stream = await EventStreamReader.open(east.runningNode.port, callId);
    try {
      cluster.partition('east');
      await writer.put(east, callId, 'east.note', 'kept locally, delivered after the partition');
      await waitFor(async () => (await west.client.participants(callId)).remote.length === 0, { message: 'west to drop east', timeoutMs: 5000 });
      await waitFor(() => stream.named('expired').length === 1, { message: 'east to tell its clients the registration lapsed', timeoutMs: 5000 });
      await writer.put(west, callId, 'after', 'the expiry');
      // Nothing is queued for a dropped participant: west has nothing left to deliver while east is away.
      await waitFor(() => west.runningNode.deliveriesIdle, { message: 'west to have nothing for east' });
      expect(await west.client.participants(callId)).toMatchObject({ remote: [] });
      expect(await east.client.participants(callId)).toMatchObject({ upstream: 'expired' });
      cluster.heal('east');
      await waitFor(() => peerHealth(east, 'west').health === 'alive', { message: 'east to hear west again' });
      // East's client still wants the call: east registers again with what it holds, and catches up.
      await waitFor(async () => (await east.client.call(callId))?.properties.after !== undefined, { message: "west's write at east once it registered again" });
      expect(await west.client.participants(callId)).toMatchObject({ remote: ['east'] });
      expect(await east.client.participants(callId)).toMatchObject({ upstream: 'registered' });
      await expectConverged(writer, [{ callId, participants: ['east'] }]);
    } finally {
      stream.close();
    }
  });

  it('delivers writes of a call it is no longer registered for after a restart', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await west.client.register(callId, 'keeps-the-call-open');
    await east.client.register(callId, 'agent');
    cluster.partition('east');
    await writer.put(east, callId, 'east.note', 'acknowledged during the partition');
    await waitFor(async () => (await east.client.participants(callId)).upstream === 'expired', { message: "east's registration to lapse", timeoutMs: 5000 });
    await east.stop();
    cluster.heal('east');
    await east.start();
    await waitFor(async () => (await west.client.call(callId))?.properties['east.note'] !== undefined, { message: "east's note at the owner" });
    await waitFor(() => cluster.all.every((site) => site.runningNode.deliveriesIdle), { message: 'deliveries to finish' });
    expect(await convergenceViolations(cluster.all, [{ callId, participants: [] }], writer.acknowledged)).toEqual([]);
  });

  it('re-registers with the last timestamp it holds after a restart', async () => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await writer.put(west, callId, 'a', 1);
    await east.client.register(callId, 'agent');
    await waitFor(async () => (await east.client.call(callId))?.properties.a !== undefined, { message: 'a at east' });
    const registrationsBefore = registrationsLogged(west, callId, 'east').length;
    await east.stop();
    await writer.put(west, callId, 'b', 2);
    await east.start();
    await waitFor(() => registrationsLogged(west, callId, 'east').length > registrationsBefore, { message: 'east to re-register after its restart' });
    expect(registrationsLogged(west, callId, 'east')[registrationsBefore]).toMatchObject({ since: expect.any(Number), entries: 1 });
    await expectConverged(writer, [{ callId, participants: ['east'] }]);
  });

  it.each([
    ['fast', 30_000],
    ['slow', -30_000],
  ])("orders a property's writes by the owner's clock when a participant's clock is 30 s %s", async (_, skewMs) => {
    north.clock.offsetMs = skewMs;
    try {
      // The participant's offset to the owner must come to cancel its skew.
      await waitFor(() => Math.abs((peerHealth(north, 'west').offsetMs ?? 0) + skewMs) < 1_000, { message: "north's offset to west to account for its skew" });
      const callId = newCallId();
      const writer = new RecordingWriter();
      await writer.put(west, callId, 'caller', '+15550100');
      await north.client.register(callId, 'a');
      await east.client.register(callId, 'b');
      await writer.put(north, callId, 'status', 'from the skewed clock');
      await waitFor(async () => (await east.client.call(callId))?.properties.status !== undefined, { message: "north's write at east" });
      await writer.put(east, callId, 'status', 'written later');
      await waitFor(async () => (await north.client.call(callId))?.properties.status.value === 'written later', { message: "east's write at north" });
      await writer.put(north, callId, 'status', 'written last, from the skewed clock');
      await expectConverged(writer, [{ callId, participants: ['north', 'east'] }]);
      expect((await west.client.call(callId))?.properties.status.value).toBe('written last, from the skewed clock');
    } finally {
      north.clock.offsetMs = 0;
    }
  });

  it.each([
    ['set back', -30_000],
    ['set forward', 30_000],
  ])("orders a property's writes when the owner's clock is %s 30 s", async (_, skewMs) => {
    const callId = newCallId();
    const writer = new RecordingWriter();
    await writer.put(west, callId, 'status', 'first');
    await east.client.register(callId, 'agent');
    west.clock.offsetMs = skewMs;
    try {
      await waitFor(async () => (await east.client.call(callId))?.properties.status !== undefined, { message: "west's write at east" });
      await writer.put(east, callId, 'status', 'second');
      await waitFor(async () => (await west.client.call(callId))?.properties.status.value === 'second', { message: "east's write at west" });
      await writer.put(west, callId, 'status', 'third');
      await expectConverged(writer, [{ callId, participants: ['east'] }]);
      expect((await east.client.call(callId))?.properties.status.value).toBe('third');
    } finally {
      west.clock.offsetMs = 0;
    }
  });

  it("keeps its participants when the owner's wall clock jumps forward past the expiry", async () => {
    const callId = newCallId();
    await west.client.put(callId, 'caller', '+15550100');
    await east.client.register(callId, 'agent');
    const logBefore = west.log.length;
    // Last in this file: the owner's clock stays ahead after this (its stamps never go back).
    // Forty times the test expiry, inside the 2 min a signed peer request may be off the receiver's clock.
    west.clock.offsetMs = 60_000;
    try {
      // East has heard west's jumped time: heartbeats went round, and west checked every peer's silence meanwhile.
      await waitFor(() => (peerHealth(east, 'west').offsetMs ?? 0) > 59_000, { message: "east to hear west's new time" });
      const writer = new RecordingWriter();
      await writer.put(west, callId, 'status', 'after the jump');
      await expectConverged(writer, [{ callId, participants: ['east'] }]);
      expect(west.log.slice(logBefore).filter((entry) => entry.msg.startsWith('peer silent'))).toEqual([]);
      expect(peerHealth(west, 'east').health).toBe('alive');
      expect(peerHealth(west, 'east').silentMs).toBeLessThan(FAST_TIMERS.expiryMs);
      expect((await west.client.participants(callId)).remote).toEqual(['east']);
    } finally {
      west.clock.offsetMs = 0;
    }
  });
});

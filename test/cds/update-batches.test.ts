import { createServer, request as httpRequest, type Server } from 'http';
import type { AddressInfo } from 'net';
import { systemClock } from '../../runtime/cds/clock/cds-clock';
import { PeerClient, PeerRequestError } from '../../runtime/cds/network/peer-client';
import { MAX_DELTAS_PER_BATCH, MAX_ENTRIES_PER_MESSAGE, MAX_MESSAGE_ENTRY_BYTES, PEER_PATHS, type UpdateDelta } from '../../runtime/cds/network/peer-messages';
import { BATCH_DELAY_MS, UpdateBatcher } from '../../runtime/cds/network/update-batcher';
import { CdsCluster, FAST_TIMERS } from '../support/cds/cds-cluster';
import { sendSigned, signPeerRequest } from '../support/cds/signed-peer-request';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { ManualClock } from '../support/cds/test-clocks';
import { testPrivateKey } from '../support/cds/test-identities';
import { waitFor } from '../support/wait-for';

// A real node ("west") owns the calls; the test plays participant "east" through a real PeerClient, batching with
// an UpdateBatcher whose timers only run when the test advances its clock.
let west: SingleNode;
let client: PeerClient;
let counter = 0;

beforeAll(async () => {
  west = await startSingleNode('west', { east: 'http://127.0.0.1:9' }, { endGraceMs: 60_000, heartbeatMs: 60_000 });
  client = new PeerClient({ site: 'east', peers: new Map([['west', [`http://127.0.0.1:${west.node.peerPort}`]]]), privateKey: testPrivateKey('east'), clock: systemClock, timeoutMs: 5_000 });
});
afterAll(async () => {
  client.close();
  await west.stop();
});

function batcherTo(clock: ManualClock, peerClient = client): UpdateBatcher {
  return new UpdateBatcher({ site: 'east', peer: 'west', clock, post: (path, body, replySchema) => peerClient.post('west', path, body, replySchema) });
}

/** Signed requests the west node's peer API took on `path`. */
function receivedAtWest(path: string): number {
  return (west.node.health().received as Record<string, number>)[path] ?? 0;
}

/** Signed requests the test's client sent on `path` (counted when a request is sent, before any reply). */
function sentByEast(path: string): number {
  return client.traffic()[path]?.requests ?? 0;
}

/** A call west owns, with east registered as a participant. */
async function callWithEast(): Promise<string> {
  const callId = `west:batch-${++counter}`;
  await west.client.put(callId, 'caller', '+15550100');
  expect((await sendSigned(west.node.peerPort, signPeerRequest('east', 'west', PEER_PATHS.register, { callId, site: 'east' }))).status).toBe(200);
  return callId;
}

/** A stamp on west's clock, as east would write with a known offset. */
async function westStamp(): Promise<number> {
  const reply = await sendSigned(west.node.peerPort, signPeerRequest('east', 'west', PEER_PATHS.heartbeat, { site: 'east' }));
  return (reply.body as { time: number }).time * 1000;
}

function eastDelta(callId: string, ts: number, properties: Record<string, string>): UpdateDelta {
  return { callId, entries: Object.entries(properties).map(([name, value], index) => ({ kind: 'property' as const, name, value, ts: ts + index, site: 'east' })) };
}

describe('updates batched per peer', () => {
  it('sends the deltas of many calls in one signed request, each stored and acknowledged, last writer winning in order', async () => {
    const clock = new ManualClock();
    const batcher = batcherTo(clock);
    const callIds = await Promise.all(Array.from({ length: 20 }, () => callWithEast()));
    const ts = await westStamp();
    const before = { batches: receivedAtWest(PEER_PATHS.updatesBatch), singles: receivedAtWest(PEER_PATHS.updates) };
    // 60 deltas for 20 calls: three successive writes of one property per call.
    const acknowledged = callIds.flatMap((callId, call) => [0, 1, 2].map((round) => batcher.send(eastDelta(callId, ts + round * 1000 + call, { note: `round ${round}` }))));
    clock.advance(BATCH_DELAY_MS);
    const ackedTs = await Promise.all(acknowledged);
    expect(ackedTs).toEqual(callIds.flatMap((_, call) => [0, 1, 2].map((round) => ts + round * 1000 + call)));
    expect(receivedAtWest(PEER_PATHS.updatesBatch) - before.batches).toBe(1);
    expect(receivedAtWest(PEER_PATHS.updates) - before.singles).toBe(0);
    for (const [call, callId] of callIds.entries()) {
      expect((await west.client.call(callId))?.properties.note).toEqual({ value: 'round 2', ts: ts + 2000 + call, site: 'east' });
    }
  });

  it('acknowledges the deltas of a partly refused batch and refuses the others each as a single updates message would be', async () => {
    const clock = new ManualClock();
    const batcher = batcherTo(clock);
    const [first, second] = [await callWithEast(), await callWithEast()];
    const withoutEast = `west:batch-${++counter}`;
    await west.client.put(withoutEast, 'caller', '+15550111');
    const unknown = `west:batch-never-opened-${++counter}`;
    const ts = await westStamp();
    const before = receivedAtWest(PEER_PATHS.updatesBatch);
    const outcomes = Promise.allSettled([
      batcher.send(eastDelta(first, ts, { crm: 'first' })),
      batcher.send(eastDelta(unknown, ts, { crm: 'invented' })),
      batcher.send(eastDelta(withoutEast, ts, { crm: 'not a participant' })),
      batcher.send(eastDelta(second, ts, { crm: 'second' })),
    ]);
    clock.advance(BATCH_DELAY_MS);
    const [firstOutcome, unknownOutcome, withoutEastOutcome, secondOutcome] = await outcomes;
    expect(receivedAtWest(PEER_PATHS.updatesBatch) - before).toBe(1);
    expect(firstOutcome).toEqual({ status: 'fulfilled', value: ts });
    expect(secondOutcome).toEqual({ status: 'fulfilled', value: ts });
    expect((await west.client.call(first))?.properties.crm).toEqual({ value: 'first', ts, site: 'east' });
    expect((await west.client.call(second))?.properties.crm).toEqual({ value: 'second', ts, site: 'east' });

    const refusal = (outcome: PromiseSettledResult<number>): PeerRequestError => {
      if (outcome.status !== 'rejected' || !(outcome.reason instanceof PeerRequestError)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome)}`);
      return outcome.reason;
    };
    expect(refusal(unknownOutcome)).toMatchObject({ status: 404, reason: 'unknown-call', refusedAsFinal: true, retryable: false });
    expect(refusal(withoutEastOutcome)).toMatchObject({ status: 403, reason: 'not-a-participant', refusedAsFinal: true, retryable: false });
    // The peer API never creates a call, nor takes a write from a site outside it.
    expect(await west.client.call(unknown)).toBeUndefined();
    expect((await west.client.call(withoutEast))?.properties.crm).toBeUndefined();
  });

  it('holds a delta at most the batch delay on the injected timers, then sends it', async () => {
    const clock = new ManualClock();
    const batcher = batcherTo(clock);
    const callId = await callWithEast();
    const ts = await westStamp();
    const sentBefore = sentByEast(PEER_PATHS.updatesBatch);
    const acknowledged = batcher.send(eastDelta(callId, ts, { queue: 'waiting' }));
    clock.advance(BATCH_DELAY_MS - 1);
    expect(batcher.waitingDeltas).toBe(1);
    expect(sentByEast(PEER_PATHS.updatesBatch)).toBe(sentBefore);
    clock.advance(1);
    expect(batcher.waitingDeltas).toBe(0);
    expect(sentByEast(PEER_PATHS.updatesBatch)).toBe(sentBefore + 1);
    expect(await acknowledged).toBe(ts);
  });

  it('splits deltas past the byte bound into several batches, the full one sent at once', async () => {
    const clock = new ManualClock();
    const batcher = batcherTo(clock);
    const callIds = await Promise.all(Array.from({ length: 4 }, () => callWithEast()));
    const ts = await westStamp();
    const bulky = 'x'.repeat(30_000);
    // Four deltas of about 360 KB: two fit in 1 MiB, the third does not.
    const deltas = callIds.map((callId, call) => eastDelta(callId, ts + call * 100, Object.fromEntries(Array.from({ length: 12 }, (_, index) => [`bulk${index}`, bulky]))));
    expect(2 * Buffer.byteLength(JSON.stringify(deltas[0]))).toBeLessThan(MAX_MESSAGE_ENTRY_BYTES);
    expect(3 * Buffer.byteLength(JSON.stringify(deltas[0]))).toBeGreaterThan(MAX_MESSAGE_ENTRY_BYTES);
    const sentBefore = sentByEast(PEER_PATHS.updatesBatch);
    const receivedBefore = receivedAtWest(PEER_PATHS.updatesBatch);
    const acknowledged = deltas.map((delta) => batcher.send(delta));
    expect(sentByEast(PEER_PATHS.updatesBatch)).toBe(sentBefore + 1);
    expect(batcher.waitingDeltas).toBe(2);
    clock.advance(BATCH_DELAY_MS);
    expect(await Promise.all(acknowledged)).toEqual(callIds.map((_, call) => ts + call * 100 + 11));
    expect(receivedAtWest(PEER_PATHS.updatesBatch) - receivedBefore).toBe(2);
  });

  it('splits deltas past the count bound, the full batch sent without waiting', async () => {
    const clock = new ManualClock();
    const batcher = batcherTo(clock);
    const callIds = await Promise.all(Array.from({ length: 4 }, () => callWithEast()));
    const ts = await westStamp();
    const sentBefore = sentByEast(PEER_PATHS.updatesBatch);
    const acknowledged = Array.from({ length: MAX_DELTAS_PER_BATCH + 1 }, (_, index) => batcher.send(eastDelta(callIds[index % callIds.length], ts + index, { counter: String(index) })));
    expect(sentByEast(PEER_PATHS.updatesBatch)).toBe(sentBefore + 1);
    expect(batcher.waitingDeltas).toBe(1);
    clock.advance(BATCH_DELAY_MS);
    expect(await Promise.all(acknowledged)).toHaveLength(MAX_DELTAS_PER_BATCH + 1);
    expect((await west.client.call(callIds[0]))?.properties.counter).toEqual({ value: String(MAX_DELTAS_PER_BATCH), ts: ts + MAX_DELTAS_PER_BATCH, site: 'east' });
  });
});

describe('the checks on a batch', () => {
  const batchAsEast = (body: unknown, options?: { receiver?: string }) => signPeerRequest('east', options?.receiver ?? 'west', PEER_PATHS.updatesBatch, body);

  it('refuses a batch over its bounds, not signed by its sender for this site, or replayed, changing nothing', async () => {
    const callId = await callWithEast();
    const ts = await westStamp();
    const delta = eastDelta(callId, ts, { refused: 'never stored' });
    const port = west.node.peerPort;
    const tooMany = { site: 'east', deltas: Array.from({ length: MAX_DELTAS_PER_BATCH + 1 }, () => delta) };
    expect(await sendSigned(port, batchAsEast(tooMany))).toMatchObject({ status: 400, body: { reason: 'malformed', error: expect.stringMatching(/^body\.deltas: /) } });
    const manyEntries = eastDelta(callId, ts, Object.fromEntries(Array.from({ length: 700 }, (_, index) => [`p${index}`, 'v'])));
    expect(await sendSigned(port, batchAsEast({ site: 'east', deltas: [manyEntries, manyEntries, manyEntries] }))).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining(`at most ${MAX_ENTRIES_PER_MESSAGE} entries in all`) },
    });
    const deep = { ...delta, entries: [{ ...delta.entries[0], value: JSON.parse(`${'['.repeat(70)}0${']'.repeat(70)}`) as unknown }] };
    expect(await sendSigned(port, batchAsEast({ site: 'east', deltas: [deep] }))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/nested deeper than \d+ levels/) } });
    expect(await sendSigned(port, batchAsEast({ site: 'east', deltas: [delta], padding: 'x'.repeat(2 * 1024 * 1024) }))).toMatchObject({ status: 413 });
    expect(await sendSigned(port, batchAsEast({ site: 'north', deltas: [delta] }))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^body\.site: /) } });
    expect(await sendSigned(port, batchAsEast({ site: 'east', deltas: [delta] }, { receiver: 'north' }))).toMatchObject({ status: 401 });
    const signed = batchAsEast({ site: 'east', deltas: [delta] });
    expect(await sendSigned(port, { ...signed, body: Buffer.from(JSON.stringify({ site: 'east', deltas: [eastDelta(callId, ts, { refused: 'swapped' })] })) })).toMatchObject({ status: 401 });
    expect(await sendSigned(port, { ...signed, path: PEER_PATHS.updates })).toMatchObject({ status: 401 });
    expect((await west.client.call(callId))?.properties.refused).toBeUndefined();
    expect(await sendSigned(port, signed)).toMatchObject({ status: 200, body: { results: [{ ackedTs: ts }] } });
    expect(await sendSigned(port, signed)).toMatchObject({ status: 401, body: { error: expect.stringContaining('replayed') } });
  });

  it("refuses a delta carrying another site's writes on its own, and takes the rest", async () => {
    const [callId, other] = [await callWithEast(), await callWithEast()];
    const ts = await westStamp();
    const forged = { callId, entries: [{ kind: 'property', name: 'forged', value: 'as west', ts, site: 'west' }] };
    const reply = await sendSigned(west.node.peerPort, batchAsEast({ site: 'east', deltas: [forged, eastDelta(other, ts, { honest: 'yes' })] }));
    expect(reply).toMatchObject({ status: 200, body: { results: [{ status: 400, reason: 'malformed' }, { ackedTs: ts }] } });
    expect((await west.client.call(callId))?.properties.forged).toBeUndefined();
    expect((await west.client.call(other))?.properties.honest).toEqual({ value: 'yes', ts, site: 'east' });
  });
});

describe('a peer older than batches', () => {
  let olderNode: Server;

  // West's peer API as a node predating batches serves it: the batch path is unknown (404 not-found, as its router answers), the rest reaches the node.
  beforeAll(async () => {
    olderNode = createServer((incoming, outgoing) => {
      if (incoming.url === PEER_PATHS.updatesBatch) {
        incoming.resume();
        outgoing.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no such resource: ${incoming.url}`, reason: 'not-found' }));
        return;
      }
      const forwarded = httpRequest({ host: '127.0.0.1', port: west.node.peerPort, path: incoming.url, method: incoming.method, headers: incoming.headers }, (reply) => {
        outgoing.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(outgoing);
      });
      incoming.pipe(forwarded);
    });
    await new Promise<void>((resolve) => olderNode.listen(0, '127.0.0.1', () => resolve()));
  });
  afterAll(() => new Promise<void>((resolve) => olderNode.close(() => resolve())));

  it('is sent single updates messages, each acknowledged or refused on its own', async () => {
    const toOlder = new PeerClient({ site: 'east', peers: new Map([['west', [`http://127.0.0.1:${(olderNode.address() as AddressInfo).port}`]]]), privateKey: testPrivateKey('east'), clock: systemClock, timeoutMs: 5_000 });
    try {
      const clock = new ManualClock();
      const batcher = batcherTo(clock, toOlder);
      const callId = await callWithEast();
      const unknown = `west:batch-never-opened-${++counter}`;
      const ts = await westStamp();
      const outcomes = Promise.allSettled([batcher.send(eastDelta(callId, ts, { legacy: 'kept' })), batcher.send(eastDelta(unknown, ts, { legacy: 'invented' }))]);
      clock.advance(BATCH_DELAY_MS);
      const [kept, refused] = await outcomes;
      expect(kept).toEqual({ status: 'fulfilled', value: ts });
      expect(refused).toMatchObject({ status: 'rejected', reason: { status: 404, reason: 'unknown-call' } });
      expect(toOlder.traffic()[PEER_PATHS.updatesBatch]?.requests).toBe(1);
      expect(toOlder.traffic()[PEER_PATHS.updates]?.requests).toBe(2);
      expect((await west.client.call(callId))?.properties.legacy).toEqual({ value: 'kept', ts, site: 'east' });
      // Known to predate batches: the next delta goes alone at once, without waiting for a batch.
      const next = batcher.send(eastDelta(callId, ts + 1, { legacy: 'again' }));
      expect(batcher.waitingDeltas).toBe(0);
      expect(await next).toBe(ts + 1);
    } finally {
      toOlder.close();
    }
  });
});

describe('batching between running nodes', () => {
  let cluster: CdsCluster;
  // Expiry well past the cut below, so the participant stays registered through it.
  beforeAll(async () => {
    cluster = await CdsCluster.start(['west', 'east'], { ...FAST_TIMERS, expiryMs: 30_000 });
  });
  afterAll(() => cluster.stop());

  it('delivers the writes to many calls held up by a cut link in fewer signed requests than calls, and the participant holds every last write', async () => {
    const [owner, participant] = [cluster.site('west'), cluster.site('east')];
    const callIds = Array.from({ length: 40 }, (_, index) => `west:burst-${index}`);
    await Promise.all(
      callIds.map(async (callId) => {
        await owner.client.put(callId, 'caller', '+15550100');
        expect(await participant.client.register(callId, 'agent')).toMatchObject({ body: { upstream: 'registered' } });
      }),
    );
    await waitFor(() => cluster.all.every((site) => site.runningNode.deliveriesIdle), { message: 'registrations to settle', timeoutMs: 20_000 });
    const received = (): Record<string, number> => participant.runningNode.health().received as Record<string, number>;
    const before = { batches: received()[PEER_PATHS.updatesBatch] ?? 0, singles: received()[PEER_PATHS.updates] ?? 0 };
    cluster.partition('east');
    await Promise.all(callIds.flatMap((callId) => [0, 1, 2].map((round) => owner.client.put(callId, `field${round}`, `value ${round}`))));
    cluster.heal('east');
    await waitFor(() => cluster.all.every((site) => site.runningNode.deliveriesIdle), { message: 'deliveries to finish', timeoutMs: 20_000 });
    for (const callId of callIds) {
      const held = await participant.client.call(callId);
      expect([0, 1, 2].map((round) => held?.properties[`field${round}`]?.value)).toEqual(['value 0', 'value 1', 'value 2']);
    }
    // 120 writes to 40 calls, each call's delta one entry of a batch: a single request per call would be 40 at least.
    expect((received()[PEER_PATHS.updatesBatch] ?? 0) - before.batches).toBeLessThanOrEqual(4);
    expect((received()[PEER_PATHS.updates] ?? 0) - before.singles).toBe(0);
  });
});

import { createServer, type Server } from 'http';
import type { AddressInfo, Socket } from 'net';
import { systemClock } from '../../runtime/cds/clock/cds-clock';
import type { CallEntry, PropertyEntry } from '../../runtime/cds/call/call-entries';
import { PeerClient } from '../../runtime/cds/network/peer-client';
import { PEER_PATHS, updatesBatchReplySchema, type UpdateDelta } from '../../runtime/cds/network/peer-messages';
import { BATCH_DELAY_MS, MAX_BATCHES_IN_FLIGHT, UpdateBatcher } from '../../runtime/cds/network/update-batcher';
import { DynamoCdsStore } from '../../runtime/cds/store/dynamo-cds-store';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';
import { ManualClock } from '../support/cds/test-clocks';
import { testPrivateKey } from '../support/cds/test-identities';
import { waitFor } from '../support/wait-for';

// What makes the write path cheap per update, and the counters that show it, on real components: group commit on
// dynalite (counted in requests and items), batches to a peer held while enough are on their way, and peer
// traffic counted on the sockets.

const TABLE = 'write-grouping-test';
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo([TABLE]);
});
afterAll(() => dynamo.close());

const property = (name: string, value: string, ts: number): PropertyEntry => ({ kind: 'property', name, value, ts, site: 'west', recordedTs: ts });

describe('group commit of entries', () => {
  it('stores the writes of many calls made in one turn in one table write, and those made meanwhile or released by the write before in the next, counted, each readable once resolved', async () => {
    const store = new DynamoCdsStore({ client: dynamo.client, tableName: TABLE, clock: systemClock, retentionMs: 86_400_000, onInvalidItem: () => undefined });
    const callIds = Array.from({ length: 20 }, (_, index) => `west:grouped-${index}`);
    await Promise.all(callIds.map((callId) => store.createCall({ callId, owner: 'west', state: 'active' })));
    // The store's first write reads the journal an earlier run left: the writes measured come after it.
    await store.storeEntries(callIds[0], [property('warm-up', 'done', 1)]);
    const storeQueuePosition = (callId: string, index: number) => store.storeEntries(callId, [property('queue', `position ${index}`, 100 + index)]);
    const counted = async (writes: () => Promise<unknown>): Promise<number[]> => {
      const before = store.entryWriteStats();
      await writes();
      const after = store.entryWriteStats();
      return [after.directWrites - before.directWrites, after.directItems - before.directItems, after.journalWrites - before.journalWrites];
    };
    // New keys go straight to their items: five calls' writes made in one turn of the event loop share one request.
    expect(await counted(() => Promise.all(callIds.slice(0, 5).map(storeQueuePosition)))).toEqual([1, 5, 0]);
    // Writes made while a request is on its way wait for it and share the next one.
    const meanwhile = async () => {
      const first = Promise.all(callIds.slice(5, 10).map((callId, index) => storeQueuePosition(callId, 5 + index)));
      // Their request starts at the end of this turn (after their own continuations); two turns later it is under way.
      for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
      await Promise.all([first, ...callIds.slice(10).map((callId, index) => storeQueuePosition(callId, 10 + index))]);
    };
    expect(await counted(meanwhile)).toEqual([2, 15, 0]);
    const stored = await Promise.all(callIds.map((callId) => store.loadCall(callId)));
    const queuePosition = (entries: readonly CallEntry[] | undefined) => entries?.find((entry): entry is PropertyEntry => entry.kind === 'property' && entry.name === 'queue')?.value;
    expect(stored.map((call) => queuePosition(call?.entries))).toEqual(callIds.map((_, index) => `position ${index}`));

    // A call's next write waits for its previous one (the store's lanes): made as that one is stored, however many
    // promise steps later in that turn, it joins the writes queued meanwhile instead of waiting for their round trip.
    const released = async () => {
      const first = storeQueuePosition(callIds[0], 20);
      for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
      const next = first.then(async () => {
        for (let step = 0; step < 20; step++) await Promise.resolve();
        await storeQueuePosition(callIds[0], 21);
      });
      await Promise.all([next, ...callIds.slice(1, 5).map((callId, index) => storeQueuePosition(callId, 22 + index))]);
    };
    // The first goes alone, straight to its item; the five after it share one write (journaled: their keys change often).
    expect(await counted(released)).toEqual([1, 1, 1]);
    expect(queuePosition((await store.loadCall(callIds[0]))?.entries)).toBe('position 21');
    await store.close();
  });
});

/** A peer that answers each batch only when the test releases it, acknowledging every delta. */
class HeldPeer {
  readonly batches: UpdateDelta[][] = [];
  private readonly held: Array<() => void> = [];
  private constructor(readonly server: Server) {}

  static async start(): Promise<HeldPeer> {
    let peer: HeldPeer | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const { deltas } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { deltas: UpdateDelta[] };
        peer?.batches.push(deltas);
        peer?.held.push(() => {
          const body = JSON.stringify({ time: Date.now(), results: deltas.map((delta) => ({ ackedTs: delta.entries[0].ts })) });
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          response.end(body);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    peer = new HeldPeer(server);
    return peer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get heldReplies(): number {
    return this.held.length;
  }

  releaseOne(): void {
    this.held.shift()?.();
  }

  async close(): Promise<void> {
    this.held.splice(0).forEach((release) => release());
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('batches to a peer', () => {
  it(`holds a due batch while ${MAX_BATCHES_IN_FLIGHT} are unanswered, then sends everything that waited in one`, async () => {
    const peer = await HeldPeer.start();
    const client = new PeerClient({ site: 'east', peers: new Map([['west', [peer.url]]]), privateKey: testPrivateKey('east'), clock: systemClock, timeoutMs: 5_000 });
    const clock = new ManualClock();
    const batcher = new UpdateBatcher({ site: 'east', peer: 'west', clock, post: (path, body, schema) => client.post('west', path, body, schema) });
    const delta = (index: number): UpdateDelta => ({ callId: `west:held-${index}`, entries: [{ kind: 'property', name: 'n', value: String(index), ts: 1_000 + index, site: 'east' }] });
    try {
      const acknowledged: Array<Promise<number>> = [];
      for (let index = 0; index < MAX_BATCHES_IN_FLIGHT; index++) {
        acknowledged.push(batcher.send(delta(index)));
        clock.advance(BATCH_DELAY_MS);
      }
      await waitFor(() => peer.heldReplies === MAX_BATCHES_IN_FLIGHT, { message: 'the first batches at the peer' });
      acknowledged.push(batcher.send(delta(10)), batcher.send(delta(11)));
      clock.advance(BATCH_DELAY_MS);
      acknowledged.push(batcher.send(delta(12)));
      clock.advance(10 * BATCH_DELAY_MS);
      expect(batcher.waitingDeltas).toBe(3);
      peer.releaseOne();
      await waitFor(() => peer.batches.length === MAX_BATCHES_IN_FLIGHT + 1, { message: 'the held deltas sent once a batch is answered' });
      expect(peer.batches[MAX_BATCHES_IN_FLIGHT].map((sent) => sent.callId)).toEqual(['west:held-10', 'west:held-11', 'west:held-12']);
      while (peer.batches.length > 0 && peer.heldReplies > 0) peer.releaseOne();
      expect(await Promise.all(acknowledged)).toEqual([...Array.from({ length: MAX_BATCHES_IN_FLIGHT }, (_, index) => 1_000 + index), 1_010, 1_011, 1_012]);
    } finally {
      client.close();
      await peer.close();
    }
  });
});

describe('peer traffic', () => {
  it('counts the bytes on the sockets both ways, request line, headers and replies included', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const body = JSON.stringify({ time: Date.now(), results: [{ ackedTs: 1 }] });
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        response.end(body);
      });
    });
    server.on('connection', (socket: Socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new PeerClient({ site: 'east', peers: new Map([['west', [url]]]), privateKey: testPrivateKey('east'), clock: systemClock, timeoutMs: 5_000 });
    try {
      const body = { site: 'east', deltas: [{ callId: 'west:counted', entries: [{ kind: 'property', name: 'n', value: 'x'.repeat(300), ts: 1, site: 'east' }] }] };
      for (let index = 0; index < 3; index++) await client.post('west', PEER_PATHS.updatesBatch, body, updatesBatchReplySchema);
      const traffic = client.traffic()[PEER_PATHS.updatesBatch];
      const serverRead = [...sockets].reduce((sum, socket) => sum + socket.bytesRead, 0);
      const serverWritten = [...sockets].reduce((sum, socket) => sum + socket.bytesWritten, 0);
      expect(traffic).toEqual({ requests: 3, bytes: serverRead, bytesReceived: serverWritten });
      // More than the body and the headers the client sets: the request line, Host and Connection count too.
      expect(traffic.bytes).toBeGreaterThan(3 * (Buffer.byteLength(JSON.stringify(body)) + 300));
    } finally {
      client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

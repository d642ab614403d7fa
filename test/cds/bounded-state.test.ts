import { CdsNode } from '../../runtime/cds/cds-node';
import type { CdsStore } from '../../runtime/cds/store/cds-store';
import { DynamoCallArchive } from '../../runtime/cds/store/call-archive';
import { DynamoCdsStore } from '../../runtime/cds/store/dynamo-cds-store';
import { ARCHIVE_TABLE, CDS_TABLE, CdsCluster, FAST_TIMERS } from '../support/cds/cds-cluster';
import { convergenceViolations } from '../support/cds/convergence-checker';
import { RecordingWriter } from '../support/cds/recording-writer';
import { cdsRequest, LocalCdsClient, TEST_LOCAL_TOKEN } from '../support/cds/cds-http';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';
import { memoryLogger } from '../support/cds/memory-logger';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { SkewedClock } from '../support/cds/test-clocks';
import { testPeerPublicKeys, testPrivateKey } from '../support/cds/test-identities';
import { waitFor } from '../support/wait-for';

const health = async (site: SingleNode) => (await site.client.health()) as { openCalls: number; cachedCalls: number };

describe('bounded open calls', () => {
  let site: SingleNode;
  beforeAll(async () => {
    site = await startSingleNode('west', {}, { endGraceMs: 60_000 }, { limits: { maxOpenCalls: 5, maxCallsPerClient: 2 } });
  });
  afterAll(() => site.stop());

  it('refuses a new call beyond the node-wide cap with 503 while the open ones keep working, and takes new calls once one closed', async () => {
    for (let index = 1; index <= 5; index++) await site.client.put(`west:cap-${index}`, 'caller', index);
    const refused = await cdsRequest(site.node.port, 'PUT', '/v1/calls/west:cap-6/properties/caller', { value: 6 });
    expect(refused).toEqual({ status: 503, body: { error: expect.stringContaining('5 open calls'), reason: 'too-many-calls' } });
    expect(await site.client.call('west:cap-6')).toBeUndefined();
    await site.client.put('west:cap-1', 'callee', 'still writable');

    expect((await site.client.end('west:cap-1')).status).toBe(200);
    await waitFor(async () => (await health(site)).openCalls === 4, { message: 'the ended call to close' });
    await site.client.put('west:cap-6', 'caller', 6);
  });

  it('refuses a client registered for as many calls as its cap with 429, other clients are not affected', async () => {
    await site.client.end('west:cap-2');
    await site.client.end('west:cap-3');
    await waitFor(async () => (await health(site)).openCalls === 3, { message: 'the ended calls to close' });
    expect((await site.client.register('west:cap-4', 'crawler')).status).toBe(201);
    expect((await site.client.register('west:cap-5', 'crawler')).status).toBe(201);
    expect((await site.client.register('west:cap-5', 'crawler')).status).toBe(201);
    const refused = await site.client.register('west:cap-6', 'crawler');
    expect(refused).toEqual({ status: 429, body: { error: expect.stringContaining('crawler'), reason: 'too-many-registrations' } });
    expect((await site.client.register('west:cap-6', 'crm')).status).toBe(201);

    expect((await site.client.unregister('west:cap-4', 'crawler')).status).toBe(204);
    expect((await site.client.register('west:cap-6', 'crawler')).status).toBe(201);
  });
});

describe('idle and never-ended calls', () => {
  const IDLE_MS = 60_000;
  const MAX_AGE_MS = 3_600_000;
  const clock = new SkewedClock();
  let site: SingleNode;
  beforeAll(async () => {
    site = await startSingleNode('west', {}, { endGraceMs: 60_000 }, { clock, limits: { idleCallMs: IDLE_MS, maxCallAgeMs: MAX_AGE_MS, sweepIntervalMs: 20 } });
  });
  afterAll(() => site.stop());

  it('evicts calls idle past the idle time from memory and loads them again on demand', async () => {
    for (let index = 1; index <= 20; index++) await site.client.put(`west:idle-${index}`, 'caller', index);
    expect(await health(site)).toMatchObject({ openCalls: 20, cachedCalls: 20 });

    clock.offsetMs += IDLE_MS + 1;
    await waitFor(async () => (await health(site)).cachedCalls === 0, { message: 'idle calls to leave memory' });
    expect(await health(site)).toMatchObject({ openCalls: 20 });
    expect((await site.client.call('west:idle-7'))?.properties.caller.value).toBe(7);
    await site.client.put('west:idle-7', 'callee', 'again');
    expect((await site.client.call('west:idle-7'))?.properties).toMatchObject({ caller: { value: 7 }, callee: { value: 'again' } });
    expect(await health(site)).toMatchObject({ openCalls: 20, cachedCalls: 1 });
  });

  it('ends a call never ended once it reaches the maximum age, through the normal end (archived once)', async () => {
    await site.client.put('west:forgotten', 'caller', '+15550100');
    clock.offsetMs += MAX_AGE_MS + 1;
    await waitFor(async () => (await site.archive.read('west:forgotten')) !== undefined, { message: 'the forgotten call to be archived' });
    expect(await site.archive.read('west:forgotten')).toMatchObject({ view: { callId: 'west:forgotten', state: 'ended', properties: { caller: { value: '+15550100' } } } });
    await waitFor(async () => (await health(site)).openCalls === 0, { message: 'every call past the age to close' });
    expect(site.log.filter((entry) => entry.msg === 'call archived' && entry.fields.callId === 'west:forgotten')).toHaveLength(1);
  });
});

describe('calls in memory beyond the byte bound', () => {
  let site: SingleNode;
  beforeAll(async () => {
    site = await startSingleNode('west', {}, { endGraceMs: 60_000 }, { limits: { maxCachedBytes: 100_000, sweepIntervalMs: 20 } });
  });
  afterAll(() => site.stop());

  it('leave memory, least recently used first, and are read again when asked for', async () => {
    const filler = 'x'.repeat(30_000);
    for (let index = 1; index <= 10; index++) await site.client.put(`west:big-${index}`, 'filler', `${index}${filler}`);
    await waitFor(async () => (await health(site)).cachedCalls <= 3, { message: 'the calls over the byte bound to leave memory' });
    expect(await health(site)).toMatchObject({ openCalls: 10 });
    expect((await site.client.call('west:big-1'))?.properties.filler.value).toBe(`1${filler}`);
  });
});

/** The store as the node sees it, counting concurrent reads of calls; `failLoad` decides whether a read fails. */
function countingStore(store: DynamoCdsStore, failLoad: (callId: string, attempt: number) => boolean) {
  const attempts = new Map<string, number>();
  const counts = { inFlight: 0, maxInFlight: 0 };
  const loadCall: CdsStore['loadCall'] = async (callId) => {
    const attempt = (attempts.get(callId) ?? 0) + 1;
    attempts.set(callId, attempt);
    counts.inFlight++;
    counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
    try {
      if (failLoad(callId, attempt)) throw new Error(`read of ${callId} timed out`);
      return await store.loadCall(callId);
    } finally {
      counts.inFlight--;
    }
  };
  const wrapped = new Proxy(store, {
    get: (target, key, receiver) => {
      if (key === 'loadCall') return loadCall;
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: wrapped as CdsStore, counts };
}

describe('restart with many open calls', () => {
  const OPEN_CALLS = 300;
  let dynamo: LocalDynamo;
  const clock = new SkewedClock();
  const tableStore = () => new DynamoCdsStore({ client: dynamo.client, tableName: CDS_TABLE, clock, retentionMs: 86_400_000, onInvalidItem: () => undefined });
  const start = (store: CdsStore) =>
    CdsNode.start({
      site: 'west',
      host: '127.0.0.1',
      port: 0,
      peerPort: 0,
      localToken: TEST_LOCAL_TOKEN,
      peers: new Map(),
      privateKey: testPrivateKey('west'),
      peerPublicKeys: testPeerPublicKeys([]),
      store,
      archive: new DynamoCallArchive(dynamo.client, ARCHIVE_TABLE),
      timers: { ...FAST_TIMERS, endGraceMs: 600_000 },
      clock,
      logger: memoryLogger('west').logger,
      backoff: { initialDelayMs: 5, maxDelayMs: 20 },
      limits: { recoveryConcurrency: 4 },
    });

  beforeAll(async () => {
    dynamo = await startLocalDynamo([CDS_TABLE, ARCHIVE_TABLE]);
    const store = tableStore();
    for (let index = 0; index < OPEN_CALLS; index += 25) {
      await Promise.all(Array.from({ length: 25 }, (_, offset) => store.createCall({ callId: `west:open-${index + offset}`, owner: 'west', state: 'active' })));
    }
  });
  afterAll(() => dynamo.close());

  it('loads the open calls a few at a time, retrying reads that fail, and serves them all', async () => {
    const { store, counts } = countingStore(tableStore(), (callId, attempt) => attempt === 1 && callId.endsWith('7'));
    const node = await start(store);
    try {
      expect(counts.maxInFlight).toBeLessThanOrEqual(4);
      const client = new LocalCdsClient(() => node.port);
      expect(await client.health()).toMatchObject({ openCalls: OPEN_CALLS });
      expect(await client.call('west:open-17')).toMatchObject({ callId: 'west:open-17', state: 'active' });
    } finally {
      await node.stop();
    }
  });

  it('fails a start whose reads keep failing with the reason, once no read is under way', async () => {
    const { store, counts } = countingStore(tableStore(), (callId) => callId === 'west:open-150');
    await expect(start(store)).rejects.toThrow(/west:open-150.*timed out/);
    expect(counts.inFlight).toBe(0);
    expect(counts.maxInFlight).toBeLessThanOrEqual(4);
  });
});

describe('calls evicted whenever they are idle', () => {
  let cluster: CdsCluster;
  beforeAll(async () => {
    // Every call leaves memory as soon as nothing uses it: replication must go on from the table alone.
    cluster = await CdsCluster.start(['west', 'east'], FAST_TIMERS, () => ({ limits: { idleCallMs: 1, sweepIntervalMs: 10 } }));
  });
  afterAll(() => cluster.stop());

  it('still replicate both ways, survive a cut past the expiry (re-registration) and end archived once', async () => {
    const [west, east] = ['west', 'east'].map((id) => cluster.site(id));
    const callId = 'west:evicted';
    const writer = new RecordingWriter();
    await west.client.register(callId, 'switch');
    await east.client.register(callId, 'agent');
    await writer.put(west, callId, 'caller', '+15550100');
    await writer.put(east, callId, 'crm.note', 'from east');
    // East's call leaves memory once west has acknowledged east's write (a retry, on a loaded machine).
    await waitFor(async () => (await west.client.health()).cachedCalls === 0 && (await east.client.health()).cachedCalls === 0, {
      message: 'the call to leave memory at both sites',
      timeoutMs: 20_000,
    });

    cluster.partition('east');
    await writer.put(west, callId, 'answeredAt', 1234);
    await writer.put(east, callId, 'disposition', 'written during the cut');
    await waitFor(async () => (await west.client.participants(callId)).remote.length === 0, { message: 'west to drop east', timeoutMs: FAST_TIMERS.expiryMs * 4 });
    await waitFor(async () => (await east.client.participants(callId)).upstream === 'expired', { message: "east's registration to lapse", timeoutMs: FAST_TIMERS.expiryMs * 4 });
    cluster.heal('east');
    await waitFor(async () => (await west.client.participants(callId)).remote.includes('east'), { message: 'east to register again', timeoutMs: 10_000 });
    await waitFor(() => cluster.all.every((site) => site.runningNode.deliveriesIdle), { message: 'deliveries to finish' });
    expect(await convergenceViolations(cluster.all, [{ callId, participants: ['east'] }], writer.acknowledged)).toEqual([]);

    await west.client.end(callId);
    await waitFor(async () => (await west.archive.read(callId)) !== undefined && (await east.client.call(callId))?.state === 'ended', { message: 'the archive, and the end at east' });
    expect((await west.archive.read(callId))?.view.properties).toMatchObject({ caller: {}, 'crm.note': {}, answeredAt: {}, disposition: {} });
    expect(west.log.filter((entry) => entry.msg === 'call archived')).toHaveLength(1);
  });
});

import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { PropertyEntry } from '../../runtime/cds/call/call-entries';
import { CdsNode } from '../../runtime/cds/cds-node';
import { DynamoCdsStore } from '../../runtime/cds/store/dynamo-cds-store';
import { hlcAtMs } from '../../runtime/cds/clock/hlc';
import { FencedError } from '../../runtime/cds/clock/hybrid-clock';
import { CLOCK_SK, NODE_PK } from '../../runtime/cds/store/store-items';
import { runCdsServeCommand } from '../../runtime/commands/cds-command';
import { CDS_TABLE, FAST_TIMERS } from '../support/cds/cds-cluster';
import { testPeerPublicKeys, testPrivateKey, testPrivateKeyPem } from '../support/cds/test-identities';
import { cdsRequest, LocalCdsClient, TEST_LOCAL_TOKEN } from '../support/cds/cds-http';
import { CdsProcess } from '../support/cds/cds-process';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';
import { memoryLogger } from '../support/cds/memory-logger';
import { sendSigned, signPeerRequest } from '../support/cds/signed-peer-request';
import { startSingleNode } from '../support/cds/single-node';
import { SkewedClock } from '../support/cds/test-clocks';
import { announcedPorts } from '../support/cds/listening-line';
import { waitFor } from '../support/wait-for';

const property = (name: string, value: string, ts: number): PropertyEntry => ({ kind: 'property', name, value, ts, site: 'west', recordedTs: ts });

/** Stores opened directly (not by a node, which closes its own): closed before their table goes. */
const openedStores: DynamoCdsStore[] = [];

function storeOn(dynamo: LocalDynamo, tableName: string): DynamoCdsStore {
  const store = new DynamoCdsStore({ client: dynamo.client, tableName, clock: new SkewedClock(), retentionMs: 86_400_000, onInvalidItem: () => undefined });
  openedStores.push(store);
  return store;
}

async function clockItem(dynamo: LocalDynamo, tableName: string): Promise<{ highWaterMs?: number; owner?: string }> {
  const { Item: item } = await dynamo.client.send(new GetCommand({ TableName: tableName, Key: { pk: NODE_PK, sk: CLOCK_SK }, ConsistentRead: true }));
  return item ?? {};
}

describe('stores sharing a table: newest takes it', () => {
  const TABLE = 'fence-store-test';
  const RESTART_TABLE = 'fence-restart-test';
  let dynamo: LocalDynamo;

  beforeAll(async () => {
    dynamo = await startLocalDynamo([TABLE, RESTART_TABLE]);
  });
  afterAll(async () => {
    await Promise.all(openedStores.splice(0).map((store) => store.close()));
    await dynamo.close();
  });

  it('fences the older store: its raise and its writes fail with FencedError and change nothing', async () => {
    const older = storeOn(dynamo, TABLE);
    await older.clockHighWaterMark.take();
    await older.clockHighWaterMark.raise(1_000);
    await older.createCall({ callId: 'west:fence-1', owner: 'west', state: 'active' });
    await older.storeEntries('west:fence-1', [property('caller', 'before', 10)]);

    const newer = storeOn(dynamo, TABLE);
    expect(await newer.clockHighWaterMark.take()).toBe(1_000);

    await expect(older.clockHighWaterMark.raise(2_000)).rejects.toBeInstanceOf(FencedError);
    await expect(older.fenced).resolves.toBeInstanceOf(FencedError);
    await expect(older.storeEntries('west:fence-1', [property('caller', 'zombie', 20)])).rejects.toBeInstanceOf(FencedError);
    await expect(older.putClient('west:fence-1', 'crm')).rejects.toBeInstanceOf(FencedError);
    await expect(older.checkReachable()).rejects.toBeInstanceOf(FencedError);

    expect(await clockItem(dynamo, TABLE)).toMatchObject({ highWaterMs: 1_000 });
    const stored = await newer.loadCall('west:fence-1');
    expect(stored?.entries).toEqual([expect.objectContaining({ name: 'caller', value: 'before' })]);
    expect(stored?.clients).toEqual([]);
  });

  it('lets a store restarted after a crash take over at once, and never lowers the mark', async () => {
    const crashed = storeOn(dynamo, RESTART_TABLE);
    await crashed.clockHighWaterMark.take();
    await crashed.clockHighWaterMark.raise(5_000);

    // The crashed store never released the table: the restarted one does not wait for it.
    const restarted = storeOn(dynamo, RESTART_TABLE);
    expect(await restarted.clockHighWaterMark.take()).toBe(5_000);
    await restarted.clockHighWaterMark.raise(4_000);
    expect(await clockItem(dynamo, RESTART_TABLE)).toMatchObject({ highWaterMs: 5_000 });
    await restarted.clockHighWaterMark.raise(6_000);
    await expect(crashed.clockHighWaterMark.raise(9_000)).rejects.toBeInstanceOf(FencedError);
    expect(await clockItem(dynamo, RESTART_TABLE)).toMatchObject({ highWaterMs: 6_000 });
    await restarted.checkReachable();
  });
});

describe('nodes sharing a table', () => {
  it('a second node fences the first: its next reservation fails, writes get 503 and change nothing, /health says fenced', async () => {
    const zombieClock = new SkewedClock();
    const zombie = await startSingleNode('west', { east: 'http://127.0.0.1:9' }, {}, { clock: zombieClock, tableCheckCacheMs: 0 });
    let newer: CdsNode | undefined;
    const newerClient = new LocalCdsClient(() => newer?.port ?? 0);
    try {
      const before = await zombie.client.put('west:fenced', 'caller', '+15550100');
      expect(await sendSigned(zombie.node.peerPort, signPeerRequest('east', 'west', '/v1/peer/register', { callId: 'west:fenced', site: 'east' }))).toMatchObject({ status: 200 });
      newer = await CdsNode.start({
        site: 'west',
        host: '127.0.0.1',
        port: 0,
        peerPort: 0,
        localToken: TEST_LOCAL_TOKEN,
        peers: new Map([['east', 'http://127.0.0.1:9']]),
        privateKey: testPrivateKey('west'),
        peerPublicKeys: testPeerPublicKeys(['east']),
        store: storeOn(zombie.dynamo, CDS_TABLE),
        archive: zombie.archive,
        timers: FAST_TIMERS,
        logger: memoryLogger('west-newer').logger,
      });
      const newest = await newerClient.put('west:other', 'caller', '+15550199');
      expect(newest.ts).toBeGreaterThan(before.ts);

      // Past its reservation, the zombie's next stamp needs a raise of the mark.
      zombieClock.offsetMs = 60_000;
      const put = await cdsRequest(zombie.node.port, 'PUT', '/v1/calls/west:fenced/properties/caller', { value: 'rolled back' });
      expect(put).toMatchObject({ status: 503, body: { error: expect.stringContaining('fenced: another CDS node took over table cds') } });
      expect(await cdsRequest(zombie.node.port, 'POST', '/v1/calls/west:fenced/logs', { entry: 'zombie' })).toMatchObject({ status: 503 });
      const update = signPeerRequest('east', 'west', '/v1/peer/updates', {
        callId: 'west:fenced',
        site: 'east',
        entries: [{ kind: 'property', name: 'callee', value: '1000', ts: hlcAtMs(Date.now()), site: 'east' }],
      });
      expect(await sendSigned(zombie.node.peerPort, update)).toMatchObject({ status: 503, body: { error: expect.stringContaining('fenced') } });

      const stored = await newerClient.call('west:fenced');
      expect(stored?.properties).toEqual({ caller: { value: '+15550100', ts: before.ts, site: 'west' } });
      expect(stored?.logs).toEqual([]);

      expect(await cdsRequest(zombie.node.port, 'GET', '/health')).toMatchObject({ status: 503, body: { status: 'fenced' } });
      await expect(zombie.node.fenced).resolves.toBeInstanceOf(FencedError);
      expect(zombie.log.filter((entry) => entry.level === 'error' && entry.msg.startsWith('fenced'))).toHaveLength(1);
      expect(await newerClient.health()).toMatchObject({ status: 'ok' });
    } finally {
      await newer?.stop();
      await zombie.stop();
    }
  });
});

describe('cds serve sharing a table', () => {
  const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'cds-fence-')), 'peer.key');
  writeFileSync(keyFile, testPrivateKeyPem('west'));
  let dynamo: LocalDynamo;

  beforeEach(async () => {
    dynamo = await startLocalDynamo(['cds-west', 'cds-archive']);
  });
  afterEach(() => dynamo.close());

  async function serve(lines: string[], stop: AbortSignal): Promise<{ running: Promise<void>; port: number }> {
    const running = runCdsServeCommand({ site: 'west', listen: '127.0.0.1:0', 'peer-key-file': keyFile, localToken: TEST_LOCAL_TOKEN, 'dynamodb-endpoint': dynamo.endpoint }, { line: (text) => lines.push(text) }, stop);
    running.catch(() => undefined);
    await waitFor(() => announcedPorts(lines) !== undefined, { message: 'cds serve to listen', timeoutMs: 10_000 });
    return { running, port: announcedPorts(lines)!.port };
  }

  it('exits non-zero once a newer node takes its table', async () => {
    const zombieLines: string[] = [];
    const newerLines: string[] = [];
    const stopZombie = new AbortController();
    const stopNewer = new AbortController();
    const zombie = await serve(zombieLines, stopZombie.signal);
    const newer = await serve(newerLines, stopNewer.signal);
    try {
      let exited = false;
      zombie.running.then(
        () => (exited = true),
        () => (exited = true),
      );
      // The load balancer's health checks are what notice a takeover on an idle node.
      await waitFor(
        async () => {
          await cdsRequest(zombie.port, 'GET', '/health').catch(() => undefined);
          return exited;
        },
        { message: 'the fenced cds serve to exit', timeoutMs: 10_000, intervalMs: 100 },
      );
      await expect(zombie.running).rejects.toMatchObject({ exitCode: 1, message: expect.stringMatching(/^fenced: /) });
      expect(zombieLines.filter((line) => line.includes('"level":"error"') && line.includes('fenced'))).toHaveLength(1);
      expect(await cdsRequest(newer.port, 'GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    } finally {
      stopZombie.abort();
      stopNewer.abort();
      await Promise.allSettled([zombie.running, newer.running]);
    }
  });

  it('restarted on its own table after a SIGKILL, takes over at once and keeps its clock above the old one', async () => {
    const node = new CdsProcess('west', () => ['--site', 'west', '--listen', '127.0.0.1:0', '--peer-key-file', keyFile, '--dynamodb-endpoint', dynamo.endpoint]);
    const client = new LocalCdsClient(() => node.port ?? 0);
    await node.start();
    try {
      const before = await client.put('west:restart', 'caller', '+15550100');
      const killedAt = await clockItem(dynamo, 'cds-west');
      await node.kill();
      await node.start();

      const after = await client.put('west:restart', 'caller', '+15550111');
      expect(after.ts).toBeGreaterThan(before.ts);
      expect(await cdsRequest(node.port ?? 0, 'GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
      const restartedAt = await clockItem(dynamo, 'cds-west');
      expect(restartedAt.owner).not.toBe(killedAt.owner);
      expect(restartedAt.highWaterMs).toBeGreaterThanOrEqual(killedAt.highWaterMs ?? Infinity);
    } finally {
      await node.stop();
    }
  });
});

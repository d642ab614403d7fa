import { mkdtempSync, writeFileSync } from 'fs';
import { createServer, type Server, type Socket } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { callPk } from '../../runtime/cds/store/store-items';
import { cdsRequest, LocalCdsClient, TEST_LOCAL_TOKEN } from '../support/cds/cds-http';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';
import { killEntryProcesses, spawnCli, spawnEntry, type EntryProcess } from '../support/cli-process';
import { announcedPorts } from '../support/cds/listening-line';
import { refusingPort } from '../support/route-tables';
import { waitFor } from '../support/wait-for';
import { testPrivateKeyPem, testPublicKeyText } from '../support/cds/test-identities';

// `voiceplane cds serve` as the runtime image runs it: a process that either serves, stops on SIGTERM with exit 0,
// or fails within seconds with one line naming what failed.

const PEER_KEY = testPrivateKeyPem('west');
const LOCAL_TOKEN = TEST_LOCAL_TOKEN;
const withKey = { VOICEPLANE_CDS_PEER_KEY: PEER_KEY, VOICEPLANE_CDS_LOCAL_TOKEN: LOCAL_TOKEN };
/** Starting ts-node takes a few seconds on a loaded machine; the processes' own bounds come on top. */
const STARTUP_ALLOWANCE_MS = 15_000;
const serve = (...args: string[]) => ['cds', 'serve', '--site', 'west', '--listen', '127.0.0.1:0', ...args];

/** A TCP server on loopback that accepts connections and never answers. */
async function silentServer(): Promise<{ server: Server; port: number; connections: Socket[] }> {
  const connections: Socket[] = [];
  const server = createServer((socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, connections };
}

async function closeServer({ server, connections }: { server: Server; connections: Socket[] }): Promise<void> {
  connections.forEach((socket) => socket.destroy());
  await new Promise((resolve) => server.close(resolve));
}

afterEach(() => killEntryProcesses());

async function listeningPort(node: EntryProcess): Promise<number> {
  await waitFor(() => announcedPorts(node.stdout().split('\n')) !== undefined, { timeoutMs: STARTUP_ALLOWANCE_MS, message: 'the node to listen' });
  return announcedPorts(node.stdout().split('\n'))!.port;
}

describe('voiceplane cds serve as a process', () => {
  it('takes the peer key from VOICEPLANE_CDS_PEER_KEY, serves, and exits 0 on SIGTERM', async () => {
    const node = spawnCli(serve(), withKey);
    const port = await listeningPort(node);
    expect(await cdsRequest(port, 'GET', '/health')).toMatchObject({ status: 200, body: { site: 'west', status: 'ok' } });

    node.child.kill('SIGTERM');
    expect(await node.exitWithin(5_000)).toBe(0);
    expect(node.stderr()).toBe('');
    // Its stdout goes to CloudWatch Logs: JSON lines only (logs and embedded metrics).
    for (const line of node.stdout().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(node.stdout()).not.toContain(PEER_KEY);
    expect(node.stdout()).not.toContain(LOCAL_TOKEN);
  });

  it('exits 1 with one line naming the address when the port is taken', async () => {
    const taken = await silentServer();
    try {
      const node = spawnCli(['cds', 'serve', '--site', 'west', '--listen', `127.0.0.1:${taken.port}`], withKey);
      expect(await node.exitWithin(STARTUP_ALLOWANCE_MS)).toBe(1);
      expect(node.stderr()).toBe(`voiceplane: cds serve: cannot listen on 127.0.0.1:${taken.port} (the CDS local API): address already in use (EADDRINUSE)\n`);
    } finally {
      await closeServer(taken);
    }
  });

  it('releases everything a node that cannot listen had opened', async () => {
    const taken = await silentServer();
    try {
      // No process.exit in this process: it ends only once no timer, socket or embedded DynamoDB is left.
      const options = { site: 'west', listen: `127.0.0.1:${taken.port}`, peerKey: PEER_KEY, localToken: LOCAL_TOKEN, peer: ['east=http://127.0.0.1:9'], 'peer-public-key': [`east=${testPublicKeyText('east')}`] };
      const node = spawnEntry('test/support/cds/serve-without-exit.ts', [JSON.stringify(options)], {});
      expect(await node.exitWithin(STARTUP_ALLOWANCE_MS)).toBe(0);
      expect(node.stdout()).toBe(`cds serve: cannot listen on 127.0.0.1:${taken.port} (the CDS local API): address already in use (EADDRINUSE)\n`);
    } finally {
      await closeServer(taken);
    }
  });

  it('exits 1 with one line naming the table and endpoint when DynamoDB refuses connections', async () => {
    const endpoint = `http://127.0.0.1:${await refusingPort()}`;
    const node = spawnCli(serve('--dynamodb-endpoint', endpoint), withKey);
    expect(await node.exitWithin(STARTUP_ALLOWANCE_MS)).toBe(1);
    expect(node.stderr()).toMatch(new RegExp(`^voiceplane: cannot check table cds-west at ${endpoint}: connect ECONNREFUSED [^\\n]+\\n$`));
  });

  it('gives up on a DynamoDB endpoint that never answers after 10 s, naming the table and endpoint', async () => {
    const silent = await silentServer();
    try {
      const endpoint = `http://127.0.0.1:${silent.port}`;
      const node = spawnCli(serve('--dynamodb-endpoint', endpoint), withKey);
      expect(await node.exitWithin(10_000 + STARTUP_ALLOWANCE_MS)).toBe(1);
      expect(node.stderr()).toBe(`voiceplane: cannot check table cds-west at ${endpoint}: no answer within 10000 ms\n`);
    } finally {
      await closeServer(silent);
    }
  });

  it('stops with exit 0 on SIGTERM while it waits for DynamoDB', async () => {
    const silent = await silentServer();
    try {
      const node = spawnCli(serve('--dynamodb-endpoint', `http://127.0.0.1:${silent.port}`), withKey);
      await waitFor(() => silent.connections.length > 0, { timeoutMs: STARTUP_ALLOWANCE_MS, message: 'the node to ask DynamoDB for its table' });
      node.child.kill('SIGTERM');
      expect(await node.exitWithin(3_000)).toBe(0);
      expect(node.stderr()).toBe('');
    } finally {
      await closeServer(silent);
    }
  });

  describe('with a DynamoDB that answers', () => {
    let dynamo: LocalDynamo;
    beforeAll(async () => {
      dynamo = await startLocalDynamo(['cds-west', 'cds-archive']);
    });
    afterAll(() => dynamo.close());

    it('keeps its calls in the region\'s DynamoDB with --dynamodb-endpoint aws (as in ECS)', async () => {
      // What an ECS task has: a region and credentials; the SDK takes the endpoint from AWS_ENDPOINT_URL_DYNAMODB here.
      const node = spawnCli(serve('--dynamodb-endpoint', 'aws'), {
        ...withKey,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      });
      const port = await listeningPort(node);
      await new LocalCdsClient(() => port).put('west:in-aws', 'caller', '+15550100');
      const stored = await dynamo.client.send(new QueryCommand({ TableName: 'cds-west', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': callPk('west:in-aws') } }));
      expect(stored.Items?.length).toBeGreaterThan(0);
      node.child.kill('SIGTERM');
      expect(await node.exitWithin(5_000)).toBe(0);
    });

    it('exits 1 with one line naming a missing table and the endpoint', async () => {
      const node = spawnCli(serve('--dynamodb-endpoint', dynamo.endpoint, '--table', 'voice-west'), withKey);
      expect(await node.exitWithin(STARTUP_ALLOWANCE_MS)).toBe(1);
      expect(node.stderr()).toBe(`voiceplane: table voice-west does not exist at ${dynamo.endpoint} (create it, or pass --create-tables)\n`);
    });
  });

  it('exits 2 with one line for a bad flag, state directory or peer key', async () => {
    const aFile = path.join(mkdtempSync(path.join(tmpdir(), 'cds-serve-')), 'not-a-directory');
    writeFileSync(aFile, '');
    // One after the other: four compilations at once would starve each other of the machine's two cores.
    const refusal = async (args: string[], env: NodeJS.ProcessEnv) => {
      const node = spawnCli(args, env);
      return { code: await node.exitWithin(STARTUP_ALLOWANCE_MS), stderr: node.stderr() };
    };
    expect(await refusal(['cds', 'serve', '--site', 'west', '--listen', 'localhost'], withKey)).toEqual({ code: 2, stderr: 'voiceplane: --listen: must be HOST:PORT\n' });
    expect(await refusal(serve('--state-dir', path.join(aFile, 'state')), withKey)).toEqual({ code: 2, stderr: `voiceplane: --state-dir: cannot use ${path.join(aFile, 'state')} (ENOTDIR)\n` });
    expect(await refusal(serve(), { ...withKey, VOICEPLANE_CDS_PEER_KEY: 'short' })).toEqual({
      code: 2,
      stderr: 'voiceplane: VOICEPLANE_CDS_PEER_KEY: the key must be an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)\n',
    });
    expect(await refusal(serve('--peer-key-file', '/nonexistent'), withKey)).toEqual({ code: 2, stderr: expect.stringMatching(/^voiceplane: --peer-key-file: give exactly one of --peer-key-file and VOICEPLANE_CDS_PEER_KEY[^\n]*\n$/) });
  });
});

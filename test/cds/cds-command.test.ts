import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parseCdsServeOptions, runCdsServeCommand, type CdsServeRawOptions } from '../../runtime/commands/cds-command';
import { cdsRequest, LocalCdsClient } from '../support/cds/cds-http';
import { CdsProcess } from '../support/cds/cds-process';
import { startLocalDynamo } from '../support/cds/local-dynamo';
import { waitFor } from '../support/wait-for';

const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'cds-command-')), 'peer.key');
writeFileSync(keyFile, 'a shared key that is long enough for the peer API\n');
const valid: CdsServeRawOptions = { site: 'west', listen: '127.0.0.1:0', 'peer-key-file': keyFile };

function problem(raw: CdsServeRawOptions): string {
  try {
    parseCdsServeOptions(raw);
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
}

describe('cds serve options', () => {
  it('applies the default timers and tables', () => {
    expect(parseCdsServeOptions({ ...valid, peer: ['east=http://10.2.0.10:7070'] })).toMatchObject({
      site: 'west',
      listen: { host: '127.0.0.1', port: 0 },
      peer: [{ id: 'east', urls: ['http://10.2.0.10:7070'] }],
      'heartbeat-ms': 30_000,
      'expiry-ms': 300_000,
      'end-grace-ms': 30_000,
      'create-tables': false,
    });
  });

  it('takes aws for the region\'s own DynamoDB', () => {
    expect(parseCdsServeOptions({ ...valid, 'dynamodb-endpoint': 'aws' })).toMatchObject({ 'dynamodb-endpoint': 'aws' });
  });

  it('takes several URLs for a peer, one per availability zone', () => {
    expect(parseCdsServeOptions({ ...valid, peer: ['east=http://10.2.0.6:7070,http://10.2.16.6:7070'] })).toMatchObject({
      peer: [{ id: 'east', urls: ['http://10.2.0.6:7070', 'http://10.2.16.6:7070'] }],
    });
    expect(problem({ ...valid, peer: ['east=http://10.2.0.6:7070,'] })).toBe('--peer: must be ID=URL[,URL...]');
    expect(problem({ ...valid, peer: ['east=http://10.2.0.6:7070,10.2.16.6:7070'] })).toBe('--peer: must be an http(s) URL');
  });

  it('names the flag of the first problem in one line', () => {
    expect(problem({ ...valid, site: undefined })).toBe('--site: required (this site id)');
    expect(problem({ ...valid, site: 'West' })).toMatch(/^--site: must be a site id/);
    expect(problem({ ...valid, listen: 'localhost' })).toBe('--listen: must be HOST:PORT');
    expect(problem({ ...valid, listen: '0.0.0.0:70000' })).toBe('--listen: port must be 0-65535');
    expect(problem({ ...valid, peer: ['east'] })).toBe('--peer: must be ID=URL[,URL...]');
    expect(problem({ ...valid, peer: ['east=ftp://x'] })).toBe('--peer: must be an http(s) URL');
    expect(problem({ ...valid, peer: ['west=http://x:1'] })).toBe('--peer: "west" is this site');
    expect(problem({ ...valid, peer: ['east=http://x:1', 'east=http://y:1'] })).toBe('--peer: "east" is given twice');
    expect(problem({ ...valid, 'heartbeat-ms': 'soon' })).toBe('--heartbeat-ms: must be a whole number of milliseconds');
    expect(problem({ ...valid, 'heartbeat-ms': '1000', 'expiry-ms': '2000' })).toMatch(/^--expiry-ms: must exceed two heartbeats/);
    expect(problem({ ...valid, table: 'x' })).toMatch(/^--table: /);
    expect(problem({ ...valid, 'peer-key-file': undefined })).toMatch(/^--peer-key-file: give exactly one of --peer-key-file and VOICEPLANE_CDS_PEER_KEY/);
    expect(problem({ ...valid, peerKey: 'also given' })).toMatch(/^--peer-key-file: give exactly one/);
    expect(problem({ ...valid, 'media-server': ['10.1.128.10:8021'] })).toMatch(/^--password: required with --media-server/);
    expect(problem({ ...valid, 'state-dir': '/var/lib/cds', 'dynamodb-endpoint': 'http://127.0.0.1:8000' })).toMatch(/^--state-dir: keeps the embedded DynamoDB on disk/);
    expect(problem({ ...valid, 'dynamodb-endpoint': 'dynamodb.eu-west-1.amazonaws.com' })).toBe('--dynamodb-endpoint: must be aws or an http(s) URL');
  });
});

describe('cds serve', () => {
  it('runs a node on an embedded dynalite until stopped', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const running = runCdsServeCommand({ ...valid, 'peer-key-file': undefined, peerKey: 'x'.repeat(40) }, { line: (text) => lines.push(text) }, stop.signal);
    await waitFor(() => lines.some((line) => line.startsWith('cds: site west listening on')), { message: 'the node to listen', timeoutMs: 10_000 });
    const port = Number(/:(\d+)$/.exec(lines.find((line) => line.startsWith('cds: ')) ?? '')?.[1]);
    expect(await cdsRequest(port, 'GET', '/health')).toMatchObject({ status: 200, body: { site: 'west', status: 'ok' } });
    stop.abort();
    await running;
  });

  it('keeps what it acknowledged in --state-dir across a SIGKILL', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'cds-state-'));
    const node = new CdsProcess('west', () => ['--site', 'west', '--listen', '127.0.0.1:0', '--peer-key-file', keyFile, '--state-dir', stateDir]);
    const client = new LocalCdsClient(() => node.port ?? 0);
    await node.start();
    try {
      await client.put('west:durable', 'caller', '+15550100');
      await client.log('west:durable', { text: 'ivr: option 2' });
      await node.kill();
      await node.start();
      const call = await client.call('west:durable');
      expect(call?.properties.caller?.value).toBe('+15550100');
      expect(call?.logs.map((log) => log.entry)).toEqual([{ text: 'ivr: option 2' }]);
    } finally {
      await node.stop();
    }
  });

  it('refuses a short key and missing tables in one line', async () => {
    const output = { line: () => undefined };
    await expect(runCdsServeCommand({ ...valid, 'peer-key-file': undefined, peerKey: 'short' }, output)).rejects.toThrow('VOICEPLANE_CDS_PEER_KEY: the key is shorter than 32 bytes');
    const dynamo = await startLocalDynamo([]);
    try {
      await expect(runCdsServeCommand({ ...valid, 'dynamodb-endpoint': dynamo.endpoint }, output)).rejects.toThrow(
        `table cds-west does not exist at ${dynamo.endpoint} (create it, or pass --create-tables)`,
      );
    } finally {
      await dynamo.close();
    }
  });
});

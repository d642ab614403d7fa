import { generateKeyPairSync } from 'crypto';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parseCdsServeOptions, runCdsServeCommand, type CdsServeRawOptions } from '../../runtime/commands/cds-command';
import { cdsRequest, LocalCdsClient, TEST_LOCAL_TOKEN } from '../support/cds/cds-http';
import { CdsProcess } from '../support/cds/cds-process';
import { startLocalDynamo } from '../support/cds/local-dynamo';
import { announcedPorts } from '../support/cds/listening-line';
import { waitFor } from '../support/wait-for';
import { testPrivateKeyPem, testPublicKeyText } from '../support/cds/test-identities';

const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'cds-command-')), 'peer.key');
writeFileSync(keyFile, testPrivateKeyPem('west'));
const tokenFile = path.join(path.dirname(keyFile), 'local.token');
writeFileSync(tokenFile, `${TEST_LOCAL_TOKEN}\n`, { mode: 0o600 });
const valid: CdsServeRawOptions = { site: 'west', listen: '127.0.0.1:0', 'peer-key-file': keyFile, 'local-token-file': tokenFile };

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
    expect(parseCdsServeOptions({ ...valid, peer: ['east=http://10.2.0.10:7070'], 'peer-public-key': [`east=${testPublicKeyText('east')}`] })).toMatchObject({
      site: 'west',
      listen: { host: '127.0.0.1', port: 0 },
      peer: [{ id: 'east', urls: ['http://10.2.0.10:7070'] }],
      'heartbeat-ms': 30_000,
      'expiry-ms': 300_000,
      'end-grace-ms': 30_000,
      'create-tables': false,
    });
  });

  it('listens for peers apart: by default on the same host, port 7071 (any free port when --listen takes any)', () => {
    expect(parseCdsServeOptions({ ...valid, listen: '0.0.0.0:7070' })).toMatchObject({ listen: { host: '0.0.0.0', port: 7070 }, 'peer-listen': { host: '0.0.0.0', port: 7071 } });
    expect(parseCdsServeOptions(valid)).toMatchObject({ 'peer-listen': { host: '127.0.0.1', port: 0 } });
    expect(parseCdsServeOptions({ ...valid, 'peer-listen': '10.1.0.5:9000' })).toMatchObject({ 'peer-listen': { host: '10.1.0.5', port: 9000 } });
    expect(problem({ ...valid, listen: '0.0.0.0:7070', 'peer-listen': '0.0.0.0:7070' })).toBe('--peer-listen: must differ from --listen (0.0.0.0:7070): the peer API listens apart');
    expect(problem({ ...valid, 'peer-listen': 'nowhere' })).toBe('--peer-listen: must be HOST:PORT');
  });

  it('takes aws for the region\'s own DynamoDB', () => {
    expect(parseCdsServeOptions({ ...valid, 'dynamodb-endpoint': 'aws' })).toMatchObject({ 'dynamodb-endpoint': 'aws' });
  });

  it('takes several URLs for a peer, one per availability zone', () => {
    expect(parseCdsServeOptions({ ...valid, peer: ['east=http://10.2.0.6:7070,http://10.2.16.6:7070'], 'peer-public-key': [`east=${testPublicKeyText('east')}`] })).toMatchObject({
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
    expect(problem({ ...valid, peer: ['east=http://x:1'] })).toBe('--peer-public-key: required for peer "east" (ID=PUBLIC-KEY, as `voiceplane cds keygen` prints)');
    expect(problem({ ...valid, 'peer-public-key': ['east'] })).toBe('--peer-public-key: must be ID=PUBLIC-KEY');
    expect(problem({ ...valid, 'peer-public-key': ['east=bm90IGEga2V5'] })).toBe('--peer-public-key: must be an Ed25519 public key (base64 SPKI DER, as `voiceplane cds keygen` prints)');
    expect(problem({ ...valid, 'peer-public-key': [`west=${testPublicKeyText('west')}`] })).toBe('--peer-public-key: "west" is this site');
    expect(problem({ ...valid, peer: ['east=http://x:1'], 'peer-public-key': [`east=${testPublicKeyText('east')}`] })).toBe('accepted');
    expect(problem({ ...valid, 'heartbeat-ms': 'soon' })).toBe('--heartbeat-ms: must be a whole number of milliseconds');
    expect(problem({ ...valid, 'heartbeat-ms': '1000', 'expiry-ms': '2000' })).toMatch(/^--expiry-ms: must exceed two heartbeats/);
    expect(problem({ ...valid, table: 'x' })).toMatch(/^--table: /);
    expect(problem({ ...valid, 'peer-key-file': undefined })).toMatch(/^--peer-key-file: give exactly one of --peer-key-file and VOICEPLANE_CDS_PEER_KEY/);
    expect(problem({ ...valid, peerKey: 'also given' })).toMatch(/^--peer-key-file: give exactly one/);
    expect(problem({ ...valid, 'local-token-file': undefined })).toBe("--local-token-file: give exactly one of --local-token-file and VOICEPLANE_CDS_LOCAL_TOKEN (the token of the site's clients)");
    expect(problem({ ...valid, localToken: TEST_LOCAL_TOKEN })).toMatch(/^--local-token-file: give exactly one/);
    expect(problem({ ...valid, 'media-server': ['10.1.128.10:8021'] })).toMatch(/^--password: required with --media-server/);
    expect(problem({ ...valid, 'state-dir': '/var/lib/cds', 'dynamodb-endpoint': 'http://127.0.0.1:8000' })).toMatch(/^--state-dir: keeps the embedded DynamoDB on disk/);
    expect(problem({ ...valid, 'dynamodb-endpoint': 'dynamodb.eu-west-1.amazonaws.com' })).toBe('--dynamodb-endpoint: must be aws or an http(s) URL');
  });
});

describe('cds serve', () => {
  it('runs a node on an embedded dynalite until stopped', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const running = runCdsServeCommand({ ...valid, 'peer-key-file': undefined, peerKey: testPrivateKeyPem('west') }, { line: (text) => lines.push(text) }, stop.signal);
    await waitFor(() => announcedPorts(lines) !== undefined, { message: 'the node to listen', timeoutMs: 10_000 });
    const { port, peerPort } = announcedPorts(lines)!;
    expect(peerPort).not.toBe(port);
    expect(await cdsRequest(port, 'GET', '/health')).toMatchObject({ status: 200, body: { site: 'west', status: 'ok' } });
    expect(await cdsRequest(peerPort, 'GET', '/health')).toMatchObject({ status: 200, body: { site: 'west', status: 'ok' } });
    expect(await cdsRequest(port, 'GET', '/v1/calls/west:anything', undefined, {})).toMatchObject({ status: 401 });
    expect(await cdsRequest(port, 'GET', '/v1/calls/west:anything')).toMatchObject({ status: 404 });
    expect(lines.join('\n')).not.toContain(TEST_LOCAL_TOKEN);
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

  it('refuses a bad private key, a bad local token and missing tables in one line', async () => {
    const output = { line: () => undefined };
    const withKey = (peerKey: string) => runCdsServeCommand({ ...valid, 'peer-key-file': undefined, peerKey }, output);
    await expect(withKey('a shared key that is long enough for the old peer API')).rejects.toThrow(/^VOICEPLANE_CDS_PEER_KEY: the key must be an Ed25519 private key in PKCS#8 PEM \(-----BEGIN PRIVATE KEY-----\)$/);
    await expect(withKey('-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----')).rejects.toThrow(/^VOICEPLANE_CDS_PEER_KEY: the key is not a readable PKCS#8 PEM private key$/);
    const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(withKey(ecKey)).rejects.toThrow(/^VOICEPLANE_CDS_PEER_KEY: the key is a ec key, not an Ed25519 one$/);
    await expect(runCdsServeCommand({ ...valid, 'peer-key-file': '/nonexistent/cds.pem' }, output)).rejects.toThrow(/^--peer-key-file: cannot read \/nonexistent\/cds.pem: ENOENT$/);
    const withToken = (localToken: string) => runCdsServeCommand({ ...valid, 'local-token-file': undefined, localToken }, output);
    await expect(withToken('short-token')).rejects.toThrow(/^VOICEPLANE_CDS_LOCAL_TOKEN: the token is shorter than 32 bytes$/);
    await expect(withToken('a token with spaces that is long enough to pass')).rejects.toThrow(/^VOICEPLANE_CDS_LOCAL_TOKEN: the token must be visible ASCII characters without spaces$/);
    const shortFile = path.join(path.dirname(keyFile), 'short.token');
    writeFileSync(shortFile, 'short\n');
    await expect(runCdsServeCommand({ ...valid, 'local-token-file': shortFile }, output)).rejects.toThrow(/^--local-token-file: the token is shorter than 32 bytes$/);
    await expect(runCdsServeCommand({ ...valid, 'local-token-file': '/nonexistent/local.token' }, output)).rejects.toThrow(/^--local-token-file: cannot read \/nonexistent\/local.token: ENOENT$/);
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

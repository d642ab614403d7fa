import { createHash } from 'crypto';
import { readFileSync, writeFileSync } from 'fs';
import { request } from 'http';
import * as path from 'path';
import { CliError } from '../../runtime/commands/cli-error';
import { SipCommand, runSipCommand } from '../../runtime/commands/sip-command';
import { KAMAILIO_RPC_PATH, SipSite, listDestinations } from '../../runtime/sip';
import { freeLoopbackPorts } from '../support/sip/free-ports';
import { KamailioNode, LOOPBACK } from '../support/sip/kamailio-node';
import { SipTools, sipToolsOrSkip } from '../support/sip/sip-tools';

/**
 * The RPC socket can take every media server out of the dispatcher, so Kamailio executes a JSON-RPC request only
 * with the node's bearer token, even from an allowed network (here 127.0.0.1).
 */

const SITE_ID = 'loop';
const tools: SipTools | undefined = sipToolsOrSkip();
const describeWithTools = tools ? describe : describe.skip;

describeWithTools('SIP cluster node: JSON-RPC needs the bearer token (real Kamailio)', () => {
  let kamailio: KamailioNode;
  let mediaServerUri: string;

  beforeAll(async () => {
    const [sip, mediaServerFacing, rpc, nobodyListens, nobodyListensEither] = await freeLoopbackPorts(5);
    const site: SipSite = { id: SITE_ID, mediaServers: [{ id: 'ms-1', address: LOOPBACK, port: nobodyListens }, { id: 'ms-2', address: LOOPBACK, port: nobodyListensEither }] };
    mediaServerUri = `sip:${LOOPBACK}:${nobodyListens}`;
    // Probing would move the silent media server by itself; only the RPC may change its state here.
    kamailio = await KamailioNode.start(tools!.kamailio, site, { sipPort: sip, mediaServerFacingPort: mediaServerFacing, rpcPort: rpc, pingIntervalSeconds: 300, children: 1 });
  });

  afterAll(async () => {
    await kamailio?.stop();
  });

  /** Status of a drain of ms-1 sent as `sip drain` sends it, with the given headers added. */
  const drainWith = (headers: Record<string, string>) =>
    new Promise<number | undefined>((resolve, reject) => {
      const [host, port] = kamailio.rpcEndpoint.split(':');
      const body = JSON.stringify({ jsonrpc: '2.0', method: 'dispatcher.set_state', params: ['dx', 1, mediaServerUri], id: 1 });
      const call = request({ host, port: Number(port), method: 'POST', path: KAMAILIO_RPC_PATH, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      call.once('error', reject);
      call.end(body);
    });
  const statesOnNode = async () => Object.fromEntries((await listDestinations(kamailio.rpc)).map((destination) => [destination.ids?.mediaServerId, destination.state]));
  const sip = async (command: SipCommand) => {
    const lines: string[] = [];
    await runSipCommand({ site: SITE_ID, mediaServer: 'ms-1', rpc: [kamailio.rpcEndpoint], ...command }, { line: (text) => lines.push(text) });
    return lines.join('\n');
  };

  it('refuses with 401 a dispatcher.set_state without credentials from an allowed address, draining nothing', async () => {
    const before = await statesOnNode();
    expect(await drainWith({})).toBe(401);
    expect(await statesOnNode()).toEqual(before);
  });

  it('refuses with 401 any Authorization header but the whole "Bearer <token>", draining nothing', async () => {
    const token = kamailio.files.rpcToken;
    const before = await statesOnNode();
    for (const authorization of [token, `Bearer ${token.slice(0, -1)}`, `Bearer ${token}x`, `bearer ${token}`, `Basic ${Buffer.from(`x:${token}`).toString('base64')}`, 'Bearer ']) {
      expect(await drainWith({ authorization })).toBe(401);
    }
    expect(await statesOnNode()).toEqual(before);
  });

  it('sip drain with a wrong or missing token fails with one line and changes nothing', async () => {
    const before = await statesOnNode();
    const wrongTokenFile = path.join(kamailio.files.directory, 'wrong-token');
    writeFileSync(wrongTokenFile, `${'w'.repeat(40)}\n`);
    await expect(sip({ action: 'drain', rpcTokenFile: wrongTokenFile })).rejects.toThrow(new CliError(`authentication failed at SIP node ${kamailio.rpcEndpoint}: wrong RPC token`));
    await expect(sip({ action: 'drain', rpcToken: 'x'.repeat(32) })).rejects.toThrow(new CliError(`authentication failed at SIP node ${kamailio.rpcEndpoint}: wrong RPC token`));
    await expect(sip({ action: 'drain' })).rejects.toThrow(/^--rpc-token-file: required/);
    expect(await statesOnNode()).toEqual(before);
  });

  it('sip drain and undrain with the right token, from --rpc-token-file or the environment, change the dispatcher', async () => {
    expect(await sip({ action: 'drain', rpcTokenFile: kamailio.files.rpcTokenFile })).toContain('drained: no new calls');
    expect((await statesOnNode())['ms-1']).toBe('drained');
    expect(await sip({ action: 'undrain', rpcToken: kamailio.files.rpcToken })).toContain('undrained');
    expect((await statesOnNode())['ms-1']).not.toBe('drained');
  });

  it('keeps the token out of kamailio.cfg and out of the file it includes, which holds only the digest it compares', () => {
    const config = readFileSync(kamailio.files.configFile, 'utf8');
    const include = path.join(kamailio.files.directory, 'rpc-token.cfg');
    expect(config).not.toContain(kamailio.files.rpcToken);
    expect(config).toContain(`include_file "${include}"`);
    const digest = createHash('sha256').update(`Bearer ${kamailio.files.rpcToken}`).digest('hex');
    expect(readFileSync(include, 'utf8')).toBe(`#!define SIP_RPC_AUTHORIZATION_SHA256 "${digest}"\n`);
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { CliError, UsageError } from '../../runtime/commands/cli-error';
import { SipCommand, runSipCommand } from '../../runtime/commands/sip-command';
import { SipSite, readMediaServerState, renderSipConfigFiles, sipSiteFromTopology } from '../../runtime/sip';
import { ScriptedEslPeer } from '../esl/scripted-esl-peer';
import { freeLoopbackPorts } from '../support/sip/free-ports';
import { KamailioNode, LOOPBACK } from '../support/sip/kamailio-node';
import { SipTools, sipToolsOrSkip } from '../support/sip/sip-tools';

const EXAMPLE = path.join(__dirname, '../../stacks/topology.example.json');

async function sip(command: SipCommand): Promise<string[]> {
  const lines: string[] = [];
  await runSipCommand(command, { line: (text) => lines.push(text) });
  return lines;
}

const scratch = () => mkdtempSync(path.join(tmpdir(), 'voiceplane-sip-command-'));
const TOKEN = 'a-test-token-of-the-sip-nodes-rpc-socket';
const tools: SipTools | undefined = sipToolsOrSkip();

describe('voiceplane sip', () => {
  it.each<[string, SipCommand, string]>([
    ['config without --site', { action: 'config', out: '/tmp/x' }, '--site: required (site id)'],
    ['config without --out', { action: 'config', site: 'west' }, '--out: required (directory to write kamailio.cfg and dispatcher.list to)'],
    ['a malformed --site', { action: 'drain', site: 'West!', mediaServer: 'ms-1', rpc: ['127.0.0.1:5090'], rpcToken: TOKEN }, '--site: not a site id (lowercase letters, digits and dashes)'],
    ['drain without --media-server', { action: 'drain', site: 'west', rpc: ['127.0.0.1:5090'], rpcToken: TOKEN }, '--media-server: required (media server id)'],
    ['status without --rpc', { action: 'status', site: 'west', mediaServer: 'ms-1', rpcToken: TOKEN }, "--rpc: required (HOST:PORT of a Kamailio node's RPC socket; repeat it for every node of the site)"],
    ['a malformed --rpc', { action: 'status', site: 'west', mediaServer: 'ms-1', rpc: ['http://10.1.0.5/rpc'], rpcToken: TOKEN }, '--rpc: expected HOST:PORT'],
    ['an --rpc port out of range', { action: 'status', site: 'west', mediaServer: 'ms-1', rpc: ['10.1.0.5:70000'], rpcToken: TOKEN }, '--rpc: port out of range'],
    ['drain without an RPC token', { action: 'drain', site: 'west', mediaServer: 'ms-1', rpc: ['127.0.0.1:5090'] }, "--rpc-token-file: required (a file holding the RPC token of the site's SIP nodes), or set VOICEPLANE_SIP_RPC_TOKEN"],
    ['both --rpc-token-file and the variable', { action: 'status', site: 'west', mediaServer: 'ms-1', rpc: ['127.0.0.1:5090'], rpcToken: TOKEN, rpcTokenFile: '/x' }, '--rpc-token-file: give it or VOICEPLANE_SIP_RPC_TOKEN, not both'],
    ['an unreadable --rpc-token-file', { action: 'status', site: 'west', mediaServer: 'ms-1', rpc: ['127.0.0.1:5090'], rpcTokenFile: '/nonexistent/token' }, "--rpc-token-file: cannot read /nonexistent/token: ENOENT: no such file or directory, open '/nonexistent/token'"],
    ['a short token in the variable', { action: 'undrain', site: 'west', mediaServer: 'ms-1', rpc: ['127.0.0.1:5090'], rpcToken: 'short' }, 'VOICEPLANE_SIP_RPC_TOKEN: not an RPC token (32 to 512 of A-Z a-z 0-9 . _ ~ + / = -)'],
    ['a malformed --esl', { action: 'status', site: 'west', mediaServer: 'ms-1', rpc: ['10.1.0.5:5090'], rpcToken: TOKEN, esl: '10.1.128.10', password: 'pw' }, '--esl: "10.1.128.10" is not HOST:PORT'],
  ])('rejects %s with a one-line usage error naming the flag', async (_, command, message) => {
    await expect(sip(command)).rejects.toThrow(new UsageError(message));
  });

  it('config writes the files the SIP cluster of the site runs, and lists them', async () => {
    const out = path.join(scratch(), 'west');
    const lines = await sip({ action: 'config', site: 'west', topology: EXAMPLE, out });
    expect(lines).toEqual([path.join(out, 'kamailio.cfg'), path.join(out, 'dispatcher.list')]);
    const expected = renderSipConfigFiles(sipSiteFromTopology(JSON.parse(readFileSync(EXAMPLE, 'utf8')), 'west'));
    expect(readFileSync(lines[0], 'utf8')).toBe(expected['kamailio.cfg']);
    expect(readFileSync(lines[1], 'utf8')).toBe(expected['dispatcher.list']);
  });

  it('config reads the example topology when no --topology is given', async () => {
    const out = scratch();
    await sip({ action: 'config', site: 'frankfurt', out });
    expect(readFileSync(path.join(out, 'dispatcher.list'), 'utf8')).toContain('1 sip:10.2.128.10:5060 8 0 site=frankfurt;ms=ms-1');
  });

  it('config fails with one line on an unknown site, a missing file or a file that is not JSON, writing nothing', async () => {
    const out = path.join(scratch(), 'never');
    await expect(sip({ action: 'config', site: 'nowhere', topology: EXAMPLE, out })).rejects.toThrow(new CliError(`${EXAMPLE}: no site "nowhere" in the topology (sites: west, frankfurt)`));
    await expect(sip({ action: 'config', site: 'west', topology: '/nonexistent/topology.json', out })).rejects.toThrow(new CliError('--topology: cannot read /nonexistent/topology.json (ENOENT)'));
    const notJson = path.join(scratch(), 'topology.json');
    writeFileSync(notJson, '{ sites: ');
    await expect(sip({ action: 'config', site: 'west', topology: notJson, out })).rejects.toThrow(new RegExp(`^${notJson}: .*JSON`));
    expect(() => readFileSync(path.join(out, 'kamailio.cfg'))).toThrow(/ENOENT/);
  });

  (tools ? describe : describe.skip)('drain on a real Kamailio node', () => {
    let kamailio: KamailioNode;
    let freeswitch: ScriptedEslPeer;
    let mediaServerUri: string;

    beforeAll(async () => {
      const [sipPort, mediaServerFacingPort, rpcPort, nobodyListens, nobodyListensEither] = await freeLoopbackPorts(5);
      const site: SipSite = { id: 'west', mediaServers: [{ id: 'ms-1', address: LOOPBACK, port: nobodyListens }, { id: 'ms-2', address: LOOPBACK, port: nobodyListensEither }] };
      mediaServerUri = `sip:${LOOPBACK}:${nobodyListens}`;
      // Probes would move the silent media servers by themselves; only the command may change their state here.
      kamailio = await KamailioNode.start(tools!.kamailio, site, { sipPort, mediaServerFacingPort, rpcPort, pingIntervalSeconds: 300, children: 1 });
      // A FreeSWITCH that cannot count its calls.
      freeswitch = await ScriptedEslPeer.start({ api: (command) => (/^(hash|db) select/.test(command) ? '-ERR no reply\n' : undefined) });
    });

    afterAll(async () => {
      await freeswitch?.stop();
      await kamailio?.stop();
    });

    it('reports a drain that succeeded as such when the call count cannot be read afterwards', async () => {
      const command: SipCommand = {
        action: 'drain',
        site: 'west',
        mediaServer: 'ms-1',
        rpc: [kamailio.rpcEndpoint],
        rpcTokenFile: kamailio.files.rpcTokenFile,
        esl: `127.0.0.1:${freeswitch.port}`,
        password: 'ClueCon',
      };

      const lines = await sip(command);
      expect(lines[0]).toBe(`media server ms-1 of site west (${mediaServerUri}): drained: no new calls; calls in progress continue`);
      expect(lines[lines.length - 1]).toBe(`active calls: unavailable (ESL command 'api show calls count as json' failed: -ERR show Command not found!) (FreeSWITCH at 127.0.0.1:${freeswitch.port})`);
      expect((await readMediaServerState([kamailio.rpc], { siteId: 'west', mediaServerId: 'ms-1' })).nodes).toEqual([{ node: kamailio.rpcEndpoint, state: 'drained', probing: false }]);

      const [json] = await sip({ ...command, action: 'status', json: true });
      expect(JSON.parse(json)).toMatchObject({ activeCalls: null, activeCallsUnavailable: "ESL command 'api show calls count as json' failed: -ERR show Command not found!" });
    });
  });

  it('fails with one line when the RPC socket cannot be reached', async () => {
    const [closedPort] = await freeLoopbackPorts(1);
    await expect(sip({ action: 'status', site: 'west', mediaServer: 'ms-1', rpc: [`127.0.0.1:${closedPort}`], rpcToken: TOKEN })).rejects.toThrow(
      new CliError(`cannot reach Kamailio RPC at 127.0.0.1:${closedPort}: connect ECONNREFUSED 127.0.0.1:${closedPort}`),
    );
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { CliError, UsageError } from '../../runtime/commands/cli-error';
import { SipCommand, runSipCommand } from '../../runtime/commands/sip-command';
import { renderSipConfigFiles, sipSiteFromTopology } from '../../runtime/sip';
import { ScriptedEslPeer } from '../esl/scripted-esl-peer';
import { freeLoopbackPorts } from '../support/sip/free-ports';
import { FakeDispatcherOptions, fakeDispatcherNode, serveOverHttp } from './fake-dispatcher';

const EXAMPLE = path.join(__dirname, '../../stacks/topology.example.json');

async function sip(command: SipCommand): Promise<string[]> {
  const lines: string[] = [];
  await runSipCommand(command, { line: (text) => lines.push(text) });
  return lines;
}

const scratch = () => mkdtempSync(path.join(tmpdir(), 'voiceplane-sip-command-'));
const TOKEN = 'a-test-token-of-the-sip-nodes-rpc-socket';

describe('voiceplane sip', () => {
  it.each<[string, SipCommand, string]>([
    ['no action', { action: undefined }, 'sip: expected one of config|drain|undrain|status, got nothing'],
    ['an unknown action', { action: 'pause' }, 'sip: expected one of config|drain|undrain|status, got pause'],
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

  describe('drain across the nodes of a SIP cluster', () => {
    const closers: Array<() => Promise<void>> = [];
    afterEach(async () => {
      await Promise.all(closers.splice(0).map((close) => close()));
    });

    async function clusterNode(options: FakeDispatcherOptions = {}) {
      const node = fakeDispatcherNode('unused', { 'ms-1': 'active', 'ms-2': 'active' }, options);
      const served = await serveOverHttp(node.answer);
      closers.push(served.close);
      return { flags: node.flags, endpoint: served.endpoint };
    }

    it('rolls back the nodes already drained when a later node fails, and says so in one line', async () => {
      const first = await clusterNode();
      const second = await clusterNode({ failSetState: () => true });
      await expect(sip({ action: 'drain', site: 'west', mediaServer: 'ms-1', rpc: [first.endpoint, second.endpoint], rpcToken: TOKEN })).rejects.toThrow(
        new CliError(`ms-1: not drained: Kamailio RPC at ${second.endpoint}: dispatcher.set_state failed: State Update Failed (500); rolled back on ${first.endpoint}`),
      );
      expect([first.flags.get('ms-1'), second.flags.get('ms-1')]).toEqual(['AP', 'AP']);
    });

    it('reports a drain that succeeded as such when the call count cannot be read afterwards', async () => {
      const nodes = [await clusterNode(), await clusterNode()];
      const freeswitch = await ScriptedEslPeer.start({ api: (command) => (/^(hash|db) select/.test(command) ? '-ERR no reply\n' : undefined) });
      closers.push(() => freeswitch.stop());
      const command = { action: 'drain', site: 'west', mediaServer: 'ms-1', rpc: nodes.map((node) => node.endpoint), rpcToken: TOKEN, esl: `127.0.0.1:${freeswitch.port}`, password: 'ClueCon' };

      const lines = await sip(command);
      expect(lines[0]).toBe('media server ms-1 of site west (sip:10.1.128.11:5060): drained: no new calls; calls in progress continue');
      expect(lines[lines.length - 1]).toBe(`active calls: unavailable (ESL command 'api show calls count as json' failed: -ERR show Command not found!) (FreeSWITCH at 127.0.0.1:${freeswitch.port})`);
      expect(nodes.map((node) => node.flags.get('ms-1'))).toEqual(['DX', 'DX']);

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

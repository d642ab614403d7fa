import { CliError } from '../../runtime/commands/cli-error';
import { SipCommand, httpJsonRpcTransport, runSipCommand } from '../../runtime/commands/sip-command';
import { DestinationState, KamailioRpc, SipSite, listDestinations, readMediaServerState } from '../../runtime/sip';
import { SIMULATOR_PASSWORD, startMediaServer } from '../support/media-server-fixture';
import { freeLoopbackPorts } from '../support/sip/free-ports';
import { optionsPing } from '../support/sip/options-ping';
import { KamailioNode, LOOPBACK } from '../support/sip/kamailio-node';
import { ShortMessage, isReply, isRequest } from '../support/sip/short-messages';
import { SippCaller, SippMediaServer } from '../support/sip/sipp';
import { SipTools, sipToolsOrSkip } from '../support/sip/sip-tools';
import { waitFor } from '../support/wait-for';
import { refusingSetState, serveOverHttp } from '../support/sip/rpc-stand-in';

/**
 * The generated configuration in the real Kamailio, on loopback, with SIPp standing in for the media
 * servers (ms-1..ms-3 answer, ms-4 is paused) and for the PSTN caller. Probing is sped up (1 s, two
 * misses) so the run stays short; the behaviour is the production one.
 */

const SITE_ID = 'loop';
const PROBING = { pingIntervalSeconds: 1, probingThreshold: 2, inactiveThreshold: 1, inviteTimeoutMs: 1_000, children: 2 };

const tools: SipTools | undefined = sipToolsOrSkip();
const describeWithTools = tools ? describe : describe.skip;

describeWithTools('SIP cluster on loopback: real Kamailio, SIPp media servers and caller', () => {
  const { kamailio: kamailioBinary, sipp } = tools!;
  let kamailio: KamailioNode;
  let servers: Record<string, SippMediaServer>;
  let callerPort: number;
  let sipPort: number;
  const callers: SippCaller[] = [];

  beforeAll(async () => {
    const [sip, mediaServerFacing, rpc, caller, ...serverPorts] = await freeLoopbackPorts(8);
    sipPort = sip;
    callerPort = caller;
    const ids = ['ms-1', 'ms-2', 'ms-3', 'ms-4'];
    servers = Object.fromEntries(
      await Promise.all(ids.map(async (id, index) => [id, await SippMediaServer.start(sipp, serverPorts[index], id === 'ms-4' ? 'paused' : 'answers')] as const)),
    );
    const site: SipSite = { id: SITE_ID, mediaServers: ids.map((id, index) => ({ id, address: LOOPBACK, port: serverPorts[index] })) };
    kamailio = await KamailioNode.start(kamailioBinary, site, { ...PROBING, sipPort: sip, mediaServerFacingPort: mediaServerFacing, rpcPort: rpc });
  });

  afterAll(async () => {
    await Promise.all(callers.map((caller) => caller.kill()));
    await kamailio?.stop();
    await Promise.all(Object.values(servers ?? {}).map((server) => server.kill()));
  });

  const sip = async (command: SipCommand) => {
    const lines: string[] = [];
    await runSipCommand({ site: SITE_ID, rpc: [kamailio.rpcEndpoint], rpcTokenFile: kamailio.files.rpcTokenFile, ...command }, { line: (text) => lines.push(text) });
    return lines.join('\n');
  };
  const stateOf = async (mediaServerId: string) => (await readMediaServerState([kamailio.rpc], { siteId: SITE_ID, mediaServerId })).nodes[0].state;
  const waitForState = (mediaServerId: string, state: DestinationState) =>
    waitFor(async () => (await stateOf(mediaServerId)) === state, { timeoutMs: 20_000, intervalMs: 100, message: `${mediaServerId} ${state}` });
  const placeCalls = (calls: number, callsPerSecond: number, holdMs: number) => {
    const caller = SippCaller.start(sipp, { kamailioPort: sipPort, localPort: callerPort, calls, callsPerSecond, holdMs });
    callers.push(caller);
    return caller;
  };
  const received = (id: string, method: string, since = 0) => servers[id].messages().filter((message) => message.direction === 'R' && isRequest(message, method) && message.epochSeconds >= since);
  const answered = (id: string, since = 0) => servers[id].messages().filter((message: ShortMessage) => message.direction === 'S' && isReply(message, 200, 'INVITE') && message.epochSeconds >= since);
  const nowSeconds = () => Date.now() / 1000;

  it('takes a media server that refuses the probes with 503 (paused) out, and keeps the others in', async () => {
    await waitForState('ms-4', 'inactive');
    for (const id of ['ms-1', 'ms-2', 'ms-3']) expect(await stateOf(id)).toBe('active');
    // What the voice connector's keepalives see while a media server can take calls.
    expect(await optionsPing(sipPort)).toBe('SIP/2.0 200 OK');
  });

  it('spreads new calls round-robin over every media server; ACK and BYE follow the record-route', async () => {
    const result = await placeCalls(30, 30, 50).result;
    expect(result).toMatchObject({ exitCode: 0, successful: 30, failed: 0 });
    for (const id of ['ms-1', 'ms-2', 'ms-3']) {
      expect(received(id, 'INVITE')).toHaveLength(10);
      expect(received(id, 'ACK')).toHaveLength(10);
      expect(received(id, 'BYE')).toHaveLength(10);
    }
    expect(received('ms-4', 'INVITE')).toHaveLength(0);
  });

  it('sip drain stops new INVITEs to the media server at once, while its established dialogs end normally', async () => {
    const phaseStart = nowSeconds();
    const caller = placeCalls(40, 10, 2_000);
    await waitFor(() => answered('ms-2', phaseStart).length >= 2, { timeoutMs: 10_000, message: 'ms-2 carries calls' });

    const output = await sip({ action: 'drain', mediaServer: 'ms-2' });
    const drainedAt = nowSeconds();
    expect(output).toContain('media server ms-2 of site loop');
    expect(output).toMatch(new RegExp(`${kamailio.rpcEndpoint.replace(/\./g, '\\.')}\\s+drained\\s+no`));

    const result = await caller.result;
    expect(result).toMatchObject({ exitCode: 0, successful: 40, failed: 0 });
    expect(received('ms-2', 'INVITE', drainedAt)).toHaveLength(0);
    // Every dialog it had (and the caller counted as successful) ended with a BYE it answered.
    expect(received('ms-2', 'BYE', phaseStart)).toHaveLength(received('ms-2', 'INVITE', phaseStart).length);
    expect(received('ms-1', 'INVITE', drainedAt).length).toBeGreaterThan(0);
    expect(received('ms-3', 'INVITE', drainedAt).length).toBeGreaterThan(0);
    expect(received('ms-4', 'INVITE')).toHaveLength(0);
  });

  it('sip status reports the drain; sip undrain brings the media server back once it answers the probes', async () => {
    expect(await sip({ action: 'status', mediaServer: 'ms-2' })).toMatch(/drained\s+no$/m);
    expect(JSON.parse(await sip({ action: 'status', mediaServer: 'ms-2', json: true }))).toEqual({
      site: SITE_ID, mediaServer: 'ms-2', uri: `sip:${LOOPBACK}:${servers['ms-2'].port}`, nodes: [{ node: kamailio.rpcEndpoint, state: 'drained', probing: false }], activeCalls: null,
    });
    expect(await sip({ action: 'undrain', mediaServer: 'ms-2' })).toContain('undrained');
    await waitForState('ms-2', 'active');

    const phaseStart = nowSeconds();
    expect(await placeCalls(12, 20, 50).result).toMatchObject({ exitCode: 0, successful: 12, failed: 0 });
    expect(received('ms-2', 'INVITE', phaseStart).length).toBeGreaterThan(0);
  });

  it("sip status --esl adds the calls in progress counted by the media server's FreeSWITCH", async () => {
    const freeswitch = await startMediaServer();
    try {
      const output = await sip({ action: 'status', mediaServer: 'ms-2', esl: `${LOOPBACK}:${freeswitch.eslPort}`, password: SIMULATOR_PASSWORD });
      expect(output).toMatch(/active\s+yes\n/);
      expect(output).toMatch(new RegExp(`active calls: 0 \\(FreeSWITCH at ${LOOPBACK}:${freeswitch.eslPort}\\)$`));
    } finally {
      await freeswitch.stop();
    }
  });

  it('refuses unknown sites and media servers, an unreachable RPC socket or FreeSWITCH, and RPC on a SIP port, changing nothing', async () => {
    const before = await listDestinations(kamailio.rpc);
    const closedPort = (await freeLoopbackPorts(1))[0];
    await expect(sip({ action: 'drain', mediaServer: 'ms-1', site: 'nowhere' })).rejects.toThrow(new CliError(`unknown site "nowhere": Kamailio at ${kamailio.rpcEndpoint} serves site loop`));
    await expect(sip({ action: 'drain', mediaServer: 'ms-9' })).rejects.toThrow(new CliError('unknown media server "ms-9" at site loop (media servers: ms-1, ms-2, ms-3, ms-4)'));
    await expect(sip({ action: 'drain', mediaServer: 'ms-1', rpc: [kamailio.rpcEndpoint, `${LOOPBACK}:${closedPort}`] })).rejects.toThrow(
      `cannot reach Kamailio RPC at ${LOOPBACK}:${closedPort}: connect ECONNREFUSED`,
    );
    await expect(sip({ action: 'drain', mediaServer: 'ms-1', esl: `${LOOPBACK}:${closedPort}`, password: 'unused' })).rejects.toThrow(
      new RegExp(`^cannot reach media server ${LOOPBACK}:${closedPort}: `),
    );
    const onSipPort = new KamailioRpc(`${LOOPBACK}:${sipPort}`, httpJsonRpcTransport(`${LOOPBACK}:${sipPort}`, kamailio.files.rpcToken));
    await expect(onSipPort.call('dispatcher.set_state', ['d', 1, `sip:${LOOPBACK}:${servers['ms-1'].port}`])).rejects.toThrow(/refused the request: HTTP 403/);
    expect(await listDestinations(kamailio.rpc)).toEqual(before);
  });

  it('puts the real Kamailio back as it was when a later node of the cluster refuses the drain', async () => {
    const before = await listDestinations(kamailio.rpc);
    const refusingNode = await serveOverHttp(refusingSetState(httpJsonRpcTransport(kamailio.rpcEndpoint, kamailio.files.rpcToken)));
    try {
      await expect(sip({ action: 'drain', mediaServer: 'ms-1', rpc: [kamailio.rpcEndpoint, refusingNode.endpoint] })).rejects.toThrow(
        new CliError(`ms-1: not drained: Kamailio RPC at ${refusingNode.endpoint}: dispatcher.set_state failed: State Update Failed (500); rolled back on ${kamailio.rpcEndpoint}`),
      );
    } finally {
      await refusingNode.close();
    }
    expect(await listDestinations(kamailio.rpc)).toEqual(before);
  });

  it('takes a media server that stops answering out after the probing threshold; only the calls it carried fail', async () => {
    const phaseStart = nowSeconds();
    const caller = placeCalls(50, 10, 300);
    await waitFor(() => answered('ms-3', phaseStart).length >= 3, { timeoutMs: 10_000, message: 'ms-3 carries calls' });
    await servers['ms-3'].kill();
    // Calls it had answered and not yet seen a BYE for die with it: the documented loss.
    const carried = answered('ms-3', phaseStart).length - received('ms-3', 'BYE', phaseStart).length;

    await waitForState('ms-3', 'inactive');
    const result = await caller.result;
    expect(result.successful + result.failed).toBe(50);
    expect(result.failed).toBeLessThanOrEqual(carried);
  });
});

describeWithTools('SIP cluster on loopback with no media server able to take calls', () => {
  let kamailio: KamailioNode;
  let sipPort: number;
  let callerPort: number;
  let caller: SippCaller | undefined;

  beforeAll(async () => {
    const [sip, mediaServerFacing, rpc, nobodyListens, callerLocalPort] = await freeLoopbackPorts(5);
    sipPort = sip;
    callerPort = callerLocalPort;
    const site: SipSite = { id: SITE_ID, mediaServers: [{ id: 'ms-1', address: LOOPBACK, port: nobodyListens }] };
    kamailio = await KamailioNode.start(tools!.kamailio, site, { ...PROBING, sipPort: sip, mediaServerFacingPort: mediaServerFacing, rpcPort: rpc });
  });

  afterAll(async () => {
    await caller?.kill();
    await kamailio?.stop();
  });

  it('answers keepalives and new calls 503 once probing took its only media server out, so the voice connector routes elsewhere', async () => {
    await waitFor(async () => (await readMediaServerState([kamailio.rpc], { siteId: SITE_ID, mediaServerId: 'ms-1' })).nodes[0].state === 'inactive', {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: 'ms-1 inactive',
    });
    expect(await optionsPing(sipPort)).toBe('SIP/2.0 503 No Media Server Available');
    caller = SippCaller.start(tools!.sipp, { kamailioPort: sipPort, localPort: callerPort, calls: 1, callsPerSecond: 1, holdMs: 50 });
    const result = await caller.result;
    expect(result).toMatchObject({ successful: 0, failed: 1 });
    expect(result.errors).toContain('SIP/2.0 503 No Media Server Available');
  });
});

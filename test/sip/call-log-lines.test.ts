import { createSocket, type Socket } from 'dgram';
import { SIP_NEW_CALL_PATTERN, SIP_SERVER_ERROR_PATTERN } from '../../lib';
import { matchesAllTermsPattern } from '../../lib/log-filter-pattern';
import { SIP_NEW_CALL_MARKER, SIP_SERVER_ERROR_MARKER, type SipSite, readMediaServerState } from '../../runtime/sip';
import { freeLoopbackPorts } from '../support/sip/free-ports';
import { KamailioNode, LOOPBACK } from '../support/sip/kamailio-node';
import { header, sipRequest, splitSipMessages } from '../support/sip/sip-message';
import { SippMediaServer } from '../support/sip/sipp';
import { type SipTools, sipToolsOrSkip } from '../support/sip/sip-tools';
import { UdpSipClient } from '../support/sip/udp-sip-client';
import { waitFor } from '../support/wait-for';

/**
 * The lines the SIP nodes log for CloudWatch Logs' metric filters, from the real Kamailio with the rendered
 * kamailio.cfg: each new call logs one new-call line, each call whose final reply is a 5xx one 5xx line, and the real
 * lines match the patterns the site's metric filters deploy (CloudWatch's all-terms rule, lib/log-filter-pattern.ts).
 */

const SITE_ID = 'logs';
const PROBING = { pingIntervalSeconds: 1, probingThreshold: 2, inactiveThreshold: 1, inviteTimeoutMs: 1_000, children: 2 };

const tools: SipTools | undefined = sipToolsOrSkip();

/** A media server on loopback that takes the probes (200) and refuses every call with 503. */
async function refusingMediaServer(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', (datagram, peer) => {
    for (const request of splitSipMessages(datagram.toString('latin1')).messages) {
      const method = request.firstLine.split(' ')[0];
      if (method === 'ACK') continue;
      const status = method === 'INVITE' ? '503 Service Unavailable' : '200 OK';
      const headers = ['via', 'from', 'call-id', 'cseq'].flatMap((name) => (request.headers.get(name) ?? []).map((value) => `${name}: ${value}`));
      const reply = [`SIP/2.0 ${status}`, ...headers, `To: ${header(request, 'to')};tag=refuser`, 'Content-Length: 0', '', ''].join('\r\n');
      socket.send(Buffer.from(reply, 'latin1'), peer.port, peer.address);
    }
  });
  await new Promise<void>((resolve) => socket.bind(port, LOOPBACK, resolve));
  return socket;
}

function invite(callId: string, caller: UdpSipClient, kamailioPort: number): string {
  return sipRequest({
    method: 'INVITE',
    uri: `sip:+15550100@${LOOPBACK}:${kamailioPort}`,
    headers: [
      ['Via', `SIP/2.0/UDP ${LOOPBACK}:${caller.port};branch=z9hG4bK-${callId}`],
      ['Max-Forwards', '70'],
      ['From', `<sip:caller@${LOOPBACK}>;tag=caller-${callId}`],
      ['To', `<sip:+15550100@${LOOPBACK}>`],
      ['Call-ID', callId],
      ['CSeq', '1 INVITE'],
      ['Contact', `<sip:caller@${LOOPBACK}:${caller.port}>`],
    ],
  });
}

/** Kamailio's lines holding `marker`, once `count` of them are in its log. */
async function loggedLines(kamailio: KamailioNode, marker: string, count: number): Promise<string[]> {
  let lines: string[] = [];
  await waitFor(() => (lines = kamailio.logTail(10_000).split('\n').filter((line) => line.includes(marker))).length >= count, { timeoutMs: 5_000, intervalMs: 50, message: `${count} ${marker} lines` });
  return lines;
}

(tools ? describe : describe.skip)('the SIP call lines of the real Kamailio and the metric filters that count them', () => {
  let kamailio: KamailioNode | undefined;
  let caller: UdpSipClient | undefined;
  let refuser: Socket | undefined;
  let paused: SippMediaServer | undefined;

  afterEach(async () => {
    caller?.close();
    refuser?.close();
    await kamailio?.stop();
    await paused?.kill();
    [kamailio, caller, refuser, paused] = [undefined, undefined, undefined, undefined];
  });

  const start = async (mediaServerPort: number, [sipPort, mediaServerFacingPort, rpcPort]: number[]) => {
    const site: SipSite = { id: SITE_ID, mediaServers: [{ id: 'ms-1', address: LOOPBACK, port: mediaServerPort }] };
    kamailio = await KamailioNode.start(tools!.kamailio, site, { ...PROBING, sipPort, mediaServerFacingPort, rpcPort });
    caller = await UdpSipClient.bind(LOOPBACK);
    return kamailio;
  };
  const stateOfMediaServer = async (node: KamailioNode) => (await readMediaServerState([node.rpc], { siteId: SITE_ID, mediaServerId: 'ms-1' })).nodes[0].state;

  it('logs a call every media server refused with 503 as one new-call line and one 5xx line the filters count', async () => {
    const [mediaServerPort, ...ports] = await freeLoopbackPorts(4);
    refuser = await refusingMediaServer(mediaServerPort);
    const node = await start(mediaServerPort, ports);
    await waitFor(async () => (await stateOfMediaServer(node)) === 'active', { timeoutMs: 10_000, intervalMs: 100, message: 'ms-1 active' });

    caller!.send(invite('relayed-503@test', caller!, ports[0]), ports[0]);
    const reply = await caller!.reply((message) => header(message, 'call-id') === 'relayed-503@test' && !message.firstLine.includes(' 100 '), 5_000, 'final reply');
    // A proxy relays a 503 as a 500 (RFC 3261 16.7: the 503 concerns the proxy's next hop, not the caller's).
    expect(reply.firstLine).toBe('SIP/2.0 500 Service Unavailable');

    const [failure] = await loggedLines(node, SIP_SERVER_ERROR_MARKER, 1);
    const [call] = await loggedLines(node, SIP_NEW_CALL_MARKER, 1);
    expect(failure).toContain(`${SIP_SERVER_ERROR_MARKER} site=${SITE_ID} status=503 call_id=relayed-503@test`);
    expect(call).toContain(`${SIP_NEW_CALL_MARKER} site=${SITE_ID} call_id=relayed-503@test`);
    expect({ errors: matchesAllTermsPattern(SIP_SERVER_ERROR_PATTERN, failure), calls: matchesAllTermsPattern(SIP_NEW_CALL_PATTERN, call) }).toEqual({ errors: true, calls: true });
    // Each line is counted by its own filter only.
    expect({ errors: matchesAllTermsPattern(SIP_SERVER_ERROR_PATTERN, call), calls: matchesAllTermsPattern(SIP_NEW_CALL_PATTERN, failure) }).toEqual({ errors: false, calls: false });
  });

  it('logs the 503 of a site with no media server available as a 5xx line too', async () => {
    const [mediaServerPort, ...ports] = await freeLoopbackPorts(4);
    paused = await SippMediaServer.start(tools!.sipp, mediaServerPort, 'paused');
    const node = await start(mediaServerPort, ports);
    await waitFor(async () => (await stateOfMediaServer(node)) === 'inactive', { timeoutMs: 10_000, intervalMs: 100, message: 'ms-1 inactive' });

    caller!.send(invite('no-media-server@test', caller!, ports[0]), ports[0]);
    const reply = await caller!.reply((message) => header(message, 'call-id') === 'no-media-server@test', 5_000, 'final reply');
    expect(reply.firstLine).toBe('SIP/2.0 503 No Media Server Available');

    const lines = await loggedLines(node, SIP_SERVER_ERROR_MARKER, 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${SIP_SERVER_ERROR_MARKER} site=${SITE_ID} status=503 call_id=no-media-server@test`);
    expect(matchesAllTermsPattern(SIP_SERVER_ERROR_PATTERN, lines[0])).toBe(true);
  });
});

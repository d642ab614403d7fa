import { request } from 'http';
import { KAMAILIO_RPC_PATH, SipSite, rpcAuthorization } from '../../runtime/sip';
import { freeLoopbackPorts } from '../support/sip/free-ports';
import { KamailioNode, LOOPBACK } from '../support/sip/kamailio-node';
import { optionsFlood, optionsPing } from '../support/sip/options-ping';
import { isRequest } from '../support/sip/short-messages';
import { SippCaller, SippMediaServer } from '../support/sip/sipp';
import { SipTools, sipToolsOrSkip } from '../support/sip/sip-tools';

/**
 * The PSTN-side SIP port of a node admits only the allowed sources (the voice connector's networks), each
 * under a request-rate limit. On loopback 127.0.0.1 and 127.0.0.3 are allowed, 127.0.0.2 is an outsider.
 */

const OUTSIDER = '127.0.0.2';
const SECOND_ALLOWED = '127.0.0.3';
const REQUESTS_PER_SOURCE_PER_SECOND = 10;

const tools: SipTools | undefined = sipToolsOrSkip();
const describeWithTools = tools ? describe : describe.skip;

describeWithTools('SIP cluster node: allowed sources and per-source rate limit (real Kamailio and SIPp)', () => {
  let kamailio: KamailioNode;
  let mediaServer: SippMediaServer;
  let sipPort: number;
  let callerPort: number;

  beforeAll(async () => {
    const [sip, mediaServerFacing, rpc, caller, mediaServerPort] = await freeLoopbackPorts(5);
    sipPort = sip;
    callerPort = caller;
    mediaServer = await SippMediaServer.start(tools!.sipp, mediaServerPort, 'answers');
    const site: SipSite = { id: 'loop', mediaServers: [{ id: 'ms-1', address: LOOPBACK, port: mediaServerPort }] };
    const settings = { sipPort: sip, mediaServerFacingPort: mediaServerFacing, rpcPort: rpc, children: 2, requestsPerSourcePerSecond: REQUESTS_PER_SOURCE_PER_SECOND };
    kamailio = await KamailioNode.start(tools!.kamailio, site, settings, [`${LOOPBACK}/32`, `${SECOND_ALLOWED}/32`]);
  });

  afterAll(async () => {
    await kamailio?.stop();
    await mediaServer?.kill();
  });

  /** Status of a JSON-RPC call to the node's RPC socket sent from `localAddress`. */
  const rpcStatusFrom = (localAddress: string) =>
    new Promise<number | undefined>((resolve, reject) => {
      const [host, port] = kamailio.rpcEndpoint.split(':');
      const body = JSON.stringify({ jsonrpc: '2.0', method: 'dispatcher.list', id: 1 });
      const call = request({ host, port: Number(port), localAddress, method: 'POST', path: KAMAILIO_RPC_PATH, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: rpcAuthorization(kamailio.files.rpcToken) } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      call.once('error', reject);
      call.end(body);
    });
  const callFrom = (localAddress: string) => SippCaller.start(tools!.sipp, { kamailioPort: sipPort, localPort: callerPort, localAddress, calls: 1, callsPerSecond: 1, holdMs: 50 }).result;
  const invitesReceived = () => mediaServer.messages().filter((message) => message.direction === 'R' && isRequest(message, 'INVITE')).length;

  it('refuses a call and a keepalive from outside the allowed sources with 403; the media server never sees it', async () => {
    const refused = await callFrom(OUTSIDER);
    expect(refused).toMatchObject({ successful: 0, failed: 1 });
    expect(refused.errors).toContain('SIP/2.0 403 Forbidden');
    expect(invitesReceived()).toBe(0);
    expect(await optionsPing(sipPort, 5_000, OUTSIDER)).toBe('SIP/2.0 403 Forbidden');
  });

  it('relays a call from an allowed source', async () => {
    expect(await callFrom(LOOPBACK)).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
    expect(invitesReceived()).toBe(1);
  });

  it('answers JSON-RPC only to the allowed RPC sources (here 127.0.0.1), not to another host of the network even with the token', async () => {
    expect(await rpcStatusFrom(OUTSIDER)).toBe(403);
    expect(await rpcStatusFrom(LOOPBACK)).toBe(200);
  });

  it('drops the requests of a flooding source beyond its rate, while another allowed source still gets through', async () => {
    const burst = 10 * REQUESTS_PER_SOURCE_PER_SECOND;
    const answered = await optionsFlood(sipPort, burst, SECOND_ALLOWED);
    // pike counts per worker process and sampling unit, so a few more than 2 s worth get through.
    expect(answered).toBeGreaterThanOrEqual(REQUESTS_PER_SOURCE_PER_SECOND);
    expect(answered).toBeLessThan(burst / 2);
    expect(await callFrom(LOOPBACK)).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
  });
});

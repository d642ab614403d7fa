import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { SipSite } from '../../runtime/sip';
import { freeLoopbackPorts } from '../support/sip/free-ports';
import { KamailioNode, LOOPBACK } from '../support/sip/kamailio-node';
import { isRequest } from '../support/sip/short-messages';
import { audioOffer, header, recordRoutes, type SipMessage, sipRequest, uriOf } from '../support/sip/sip-message';
import { SippMediaServer } from '../support/sip/sipp';
import { SipTools, sipToolsOrSkip } from '../support/sip/sip-tools';
import { StreamSipClient } from '../support/sip/stream-sip-client';
import { waitFor } from '../support/wait-for';

/**
 * A site whose voice connector requires encryption: its nodes take SIP over TLS on the TLS port with the certificate
 * of the site's secret (here a self-signed one made for the test), under the same allow-list and rate limit as 5060.
 * On loopback 127.0.0.1 is the voice connector, 127.0.0.2 an outsider.
 */

const OUTSIDER = '127.0.0.2';
const SERVER_NAME = 'sip.voiceplane.test';

const tools: SipTools | undefined = sipToolsOrSkip();

/** A self-signed certificate for {@link SERVER_NAME} and its key, in one PEM file as the node's secret holds them. */
function selfSignedBundle(directory: string): { bundlePath: string; certificate: string } {
  const keyPath = path.join(directory, 'key.pem');
  const certificatePath = path.join(directory, 'certificate.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${SERVER_NAME}`, '-addext', `subjectAltName=DNS:${SERVER_NAME}`, '-keyout', keyPath, '-out', certificatePath], { stdio: 'ignore' });
  const certificate = readFileSync(certificatePath, 'utf8');
  const bundlePath = path.join(directory, 'node.pem');
  writeFileSync(bundlePath, readFileSync(keyPath, 'utf8') + certificate, { mode: 0o600 });
  return { bundlePath, certificate };
}

(tools ? describe : describe.skip)('SIP over TLS from an encrypted voice connector (real Kamailio with its tls module)', () => {
  let kamailio: KamailioNode;
  let mediaServer: SippMediaServer;
  let tlsPort: number;
  let certificate: string;
  const directory = mkdtempSync(path.join(tmpdir(), 'voiceplane-sip-tls-'));
  const clients: StreamSipClient[] = [];

  beforeAll(async () => {
    const [sipPort, tls, mediaServerFacingPort, rpcPort, mediaServerPort] = await freeLoopbackPorts(5);
    tlsPort = tls;
    const bundle = selfSignedBundle(directory);
    certificate = bundle.certificate;
    mediaServer = await SippMediaServer.start(tools!.sipp, mediaServerPort, 'answers');
    const site: SipSite = { id: 'loop', tls: true, mediaServers: [{ id: 'ms-1', address: LOOPBACK, port: mediaServerPort }] };
    kamailio = await KamailioNode.start(tools!.kamailio, site, { sipPort, tlsPort, tlsCertificatePath: bundle.bundlePath, mediaServerFacingPort, rpcPort, children: 2 });
  });

  afterEach(() => clients.splice(0).forEach((client) => client.close()));

  afterAll(async () => {
    await kamailio?.stop();
    await mediaServer?.kill();
    rmSync(directory, { recursive: true, force: true });
  });

  const connect = async (localAddress: string, tls = true) => {
    const client = await StreamSipClient.connect({ host: LOOPBACK, port: tlsPort, localAddress, tls: tls ? { ca: certificate, serverName: SERVER_NAME } : undefined });
    clients.push(client);
    return client;
  };
  const invitesReceived = () => mediaServer.messages().filter((message) => message.direction === 'R' && isRequest(message, 'INVITE')).length;
  const isStatus = (code: number, method: string) => (message: SipMessage) => message.firstLine.startsWith(`SIP/2.0 ${code} `) && header(message, 'cseq').endsWith(` ${method}`);

  /** A request of a dialog from the client at `source`:`port` over TLS. */
  const dialogHeaders = (source: string, port: number, id: string, method: string, cseq: number, toTag = ''): [string, string][] => [
    ['Via', `SIP/2.0/TLS ${source}:${port};branch=z9hG4bK-${id}-${method.toLowerCase()}-${cseq};rport`],
    ['Max-Forwards', '70'],
    ['From', `<sip:+15550100@${source}>;tag=caller-${id}`],
    ['To', `<sip:+15550199@${SERVER_NAME}>${toTag}`],
    ['Call-ID', `${id}@${source}`],
    ['CSeq', `${cseq} ${method}`],
    ['Contact', `<sip:+15550100@${source}:${port};transport=tls>`],
  ];
  const invite = (client: StreamSipClient, source: string, id: string) =>
    sipRequest({
      method: 'INVITE',
      uri: `sip:+15550199@${SERVER_NAME}:${tlsPort};transport=tls`,
      headers: [...dialogHeaders(source, client.localPort, id, 'INVITE', 1), ['Content-Type', 'application/sdp']],
      body: audioOffer(source, 40000),
    });

  it('relays a call from an allowed source to a media server and carries the dialog over the TLS connection', async () => {
    const client = await connect(LOOPBACK);
    client.send(invite(client, LOOPBACK, 'allowed'));
    const answer = await client.reply(isStatus(200, 'INVITE'), 10_000, '200 OK to the INVITE');
    expect(invitesReceived()).toBe(1);
    // The node record-routes itself on the media-server side and, nearest the caller, on the TLS socket.
    const routes = recordRoutes(answer).reverse();
    expect(routes[0]).toContain(`:${tlsPort};transport=tls`);

    const routeSet: [string, string][] = routes.map((route) => ['Route', route]);
    const toTag = `;tag=${/tag=([^;>\s]+)/.exec(header(answer, 'to'))?.[1]}`;
    const remoteTarget = uriOf(header(answer, 'contact'));
    const inDialog = (method: string, cseq: number) =>
      sipRequest({ method, uri: remoteTarget, headers: [...dialogHeaders(LOOPBACK, client.localPort, 'allowed', method, cseq, toTag), ...routeSet] });
    client.send(inDialog('ACK', 1));
    client.send(inDialog('BYE', 2));
    await client.reply(isStatus(200, 'BYE'), 10_000, '200 OK to the BYE');
  });

  it('answers an outsider 403 over TLS, for a call and a keepalive alike; the media server never sees it', async () => {
    const before = invitesReceived();
    const client = await connect(OUTSIDER);
    client.send(invite(client, OUTSIDER, 'outsider'));
    await client.reply(isStatus(403, 'INVITE'), 5_000, '403 to the INVITE');
    client.send(sipRequest({ method: 'OPTIONS', uri: `sip:${SERVER_NAME}:${tlsPort};transport=tls`, headers: dialogHeaders(OUTSIDER, client.localPort, 'outsider-ping', 'OPTIONS', 1) }));
    await client.reply(isStatus(403, 'OPTIONS'), 5_000, '403 to the OPTIONS');
    expect(invitesReceived()).toBe(before);
  });

  it('gives SIP in the clear on the TLS port nothing: no SIP reply, the connection is closed', async () => {
    const client = await connect(LOOPBACK, false);
    client.send(sipRequest({ method: 'OPTIONS', uri: `sip:${SERVER_NAME}:${tlsPort}`, headers: dialogHeaders(LOOPBACK, client.localPort, 'cleartext', 'OPTIONS', 1).map(([name, value]): [string, string] => [name, value.replace('/TLS', '/TCP').replace(';transport=tls', '')]) }));
    await waitFor(() => client.closed, { timeoutMs: 10_000, message: 'the node closes the cleartext connection' });
    expect(client.received).toEqual([]);
  });
});

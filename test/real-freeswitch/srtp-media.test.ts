import { randomBytes } from 'crypto';
import { EslClient } from '../../runtime/esl';
import { LocalFreeSwitch } from '../../runtime/local-freeswitch/local-freeswitch';
import { MediaServerClient } from '../../runtime/media-server';
import { type RunningGroup, startCallControl } from '../support/call-control-fixture';
import { channelRows, describeWithFreeSwitch, withServerLog } from '../support/real-freeswitch';
import { audioOffer, header, type SipMessage, sipRequest, uriOf } from '../support/sip/sip-message';
import { UdpSipClient } from '../support/sip/udp-sip-client';
import { waitFor } from '../support/wait-for';

/**
 * The media server's own configuration on the real FreeSWITCH, reached as the SIP cluster hands calls over: with `srtp`
 * (a voice connector that requires encryption) it answers an SRTP offer with SRTP and refuses plain RTP; without, the
 * reverse. The reference call control answers the calls.
 */

const LOOPBACK = '127.0.0.1';
/** An SDES key line as an SRTP trunk offers it: 16 bytes of key and 14 of salt, base64. */
const sdesCrypto = () => `AES_CM_128_HMAC_SHA1_80 inline:${randomBytes(30).toString('base64')}`;

type ConnectedClient = Awaited<ReturnType<typeof MediaServerClient.connect>>;

interface MediaServerUnderTest {
  freeswitch: LocalFreeSwitch;
  esl: EslClient;
  routes: ConnectedClient;
  group: RunningGroup;
}

async function startMediaServer(srtp: boolean): Promise<MediaServerUnderTest> {
  const freeswitch = await LocalFreeSwitch.start({ srtp });
  const esl = await EslClient.connect(freeswitch.eslOptions);
  const routes = await MediaServerClient.connect(freeswitch.eslOptions);
  const group = await startCallControl('blue');
  await routes.setRoutes({ groups: [{ id: 'blue', endpoints: [{ host: LOOPBACK, port: group.eslPort }], state: 'active' }] });
  return { freeswitch, esl, routes, group };
}

async function stopMediaServer(server: MediaServerUnderTest | undefined): Promise<void> {
  if (!server) return;
  await server.esl.api('hupall NORMAL_CLEARING').catch(() => undefined);
  await server.group.stop();
  await server.routes.close();
  await server.esl.close();
  await server.freeswitch.stop();
}

/** Sends an INVITE offering `offer` from a fresh UDP endpoint and resolves with the final reply (a 200 is acknowledged). */
async function call(server: MediaServerUnderTest, offerCrypto: string | undefined): Promise<SipMessage> {
  const caller = await UdpSipClient.bind(LOOPBACK);
  try {
    const id = randomBytes(6).toString('hex');
    const target = `sip:+15550199@${LOOPBACK}:${server.freeswitch.ports.sip}`;
    const dialog = (method: string, toTag = ''): [string, string][] => [
      ['Via', `SIP/2.0/UDP ${LOOPBACK}:${caller.port};branch=z9hG4bK-${id}-${method.toLowerCase()};rport`],
      ['Max-Forwards', '70'],
      ['From', `<sip:+15550100@${LOOPBACK}>;tag=caller-${id}`],
      ['To', `<${target}>${toTag}`],
      ['Call-ID', `${id}@${LOOPBACK}`],
      ['CSeq', `1 ${method}`],
      ['Contact', `<sip:+15550100@${LOOPBACK}:${caller.port}>`],
    ];
    caller.send(sipRequest({ method: 'INVITE', uri: target, headers: [...dialog('INVITE'), ['Content-Type', 'application/sdp']], body: audioOffer(LOOPBACK, 40000, offerCrypto) }), server.freeswitch.ports.sip);
    const final = await caller.reply((message) => /^SIP\/2\.0 [2-6]\d\d /.test(message.firstLine) && header(message, 'cseq').endsWith(' INVITE'), 15_000, 'a final reply to the INVITE');
    if (final.firstLine.startsWith('SIP/2.0 200 ')) {
      const toTag = `;tag=${/tag=([^;>\s]+)/.exec(header(final, 'to'))?.[1]}`;
      caller.send(sipRequest({ method: 'ACK', uri: uriOf(header(final, 'contact')), headers: dialog('ACK', toTag) }), server.freeswitch.ports.sip);
    }
    return final;
  } finally {
    caller.close();
  }
}

const mediaLine = (answer: SipMessage) => answer.body.split('\r\n').find((line) => line.startsWith('m=audio ')) ?? '';
const cryptoLines = (answer: SipMessage) => answer.body.split('\r\n').filter((line) => line.startsWith('a=crypto:'));

describeWithFreeSwitch('SRTP on the media server (real FreeSWITCH, rendered configuration)', () => {
  describe('with srtp (the voice connector requires encryption)', () => {
    let server: MediaServerUnderTest;
    beforeAll(async () => (server = await startMediaServer(true)), 60_000);
    afterEach(async () => {
      await server.esl.api('hupall NORMAL_CLEARING');
      await waitFor(async () => (await channelRows(server.esl)).length === 0, { timeoutMs: 15_000, message: 'every channel hung up' });
    }, 30_000);
    afterAll(() => stopMediaServer(server), 30_000);

    it('answers an RTP/SAVP offer with an SDES key with SRTP: RTP/SAVP and its own key', () =>
      withServerLog('FreeSWITCH', () => server.freeswitch.logTail(60), async () => {
        const answer = await call(server, sdesCrypto());
        expect(answer.firstLine).toBe('SIP/2.0 200 OK');
        expect(mediaLine(answer)).toMatch(/^m=audio \d+ RTP\/SAVP /);
        expect(cryptoLines(answer)).toEqual([expect.stringMatching(/^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}/)]);
      }), 30_000);

    it('refuses a plain RTP offer with 488', () =>
      withServerLog('FreeSWITCH', () => server.freeswitch.logTail(60), async () => {
        expect((await call(server, undefined)).firstLine).toMatch(/^SIP\/2\.0 488 /);
      }), 30_000);
  });

  describe('without srtp (the default)', () => {
    let server: MediaServerUnderTest;
    beforeAll(async () => (server = await startMediaServer(false)), 60_000);
    afterAll(() => stopMediaServer(server), 30_000);

    it('answers plain RTP and refuses an SRTP-only offer with 488', () =>
      withServerLog('FreeSWITCH', () => server.freeswitch.logTail(60), async () => {
        expect((await call(server, sdesCrypto())).firstLine).toMatch(/^SIP\/2\.0 488 /);
        const answer = await call(server, undefined);
        expect(answer.firstLine).toBe('SIP/2.0 200 OK');
        expect(mediaLine(answer)).toMatch(/^m=audio \d+ RTP\/AVP /);
        expect(cryptoLines(answer)).toEqual([]);
      }), 30_000);
  });
});

import { createSocket } from 'dgram';
import { LOOPBACK } from './kamailio-node';

/** Sends one OPTIONS over UDP to 127.0.0.1:`port`, as a voice connector's keepalive does, and resolves with the status line of the reply. */
export function optionsPing(port: number, timeoutMs = 5_000): Promise<string> {
  const socket = createSocket('udp4');
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to OPTIONS on ${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('message', (message) => {
      clearTimeout(timer);
      resolve(message.toString('utf8').split('\r\n')[0]);
    });
    socket.bind(0, LOOPBACK, () => {
      const { port: localPort } = socket.address();
      const request = [
        `OPTIONS sip:${LOOPBACK}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${LOOPBACK}:${localPort};branch=z9hG4bK-voiceplane-${Date.now()}`,
        'Max-Forwards: 70',
        `From: <sip:keepalive@${LOOPBACK}>;tag=voiceplane`,
        `To: <sip:${LOOPBACK}:${port}>`,
        `Call-ID: keepalive-${Date.now()}@${LOOPBACK}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      socket.send(request, port, LOOPBACK);
    });
  }).finally(() => socket.close());
}

import { createSocket } from 'dgram';
import { LOOPBACK } from './kamailio-node';

/** An OPTIONS from `source`:`localPort` to 127.0.0.1:`port`; `id` makes its branch, tag and Call-ID unique. */
function optionsRequest(port: number, source: string, localPort: number, id: string): string {
  return [
    `OPTIONS sip:${LOOPBACK}:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${source}:${localPort};branch=z9hG4bK-voiceplane-${id}`,
    'Max-Forwards: 70',
    `From: <sip:keepalive@${source}>;tag=${id}`,
    `To: <sip:${LOOPBACK}:${port}>`,
    `Call-ID: ${id}@${source}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/**
 * Sends one OPTIONS over UDP from `source` to 127.0.0.1:`port`, as a voice connector's keepalive does,
 * and resolves with the status line of the reply.
 */
export function optionsPing(port: number, timeoutMs = 5_000, source = LOOPBACK): Promise<string> {
  const socket = createSocket('udp4');
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to OPTIONS on ${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('message', (message) => {
      clearTimeout(timer);
      resolve(message.toString('utf8').split('\r\n')[0]);
    });
    socket.bind(0, source, () => {
      const { port: localPort } = socket.address();
      socket.send(optionsRequest(port, source, localPort, `keepalive-${Date.now()}`), port, LOOPBACK);
    });
  }).finally(() => socket.close());
}

/**
 * Sends `count` OPTIONS at once from `source` to 127.0.0.1:`port` and resolves with how many got a reply
 * within `windowMs` (a flood, as a scanner sends it).
 */
export function optionsFlood(port: number, count: number, source: string, windowMs = 1_000): Promise<number> {
  const socket = createSocket('udp4');
  let replies = 0;
  socket.on('message', () => replies++);
  return new Promise<number>((resolve) => {
    socket.bind(0, source, () => {
      const { port: localPort } = socket.address();
      for (let index = 0; index < count; index++) {
        socket.send(optionsRequest(port, source, localPort, `flood-${index}-${Date.now()}`), port, LOOPBACK);
      }
      setTimeout(() => resolve(replies), windowMs);
    });
  }).finally(() => socket.close());
}

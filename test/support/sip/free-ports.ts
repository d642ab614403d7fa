import { createSocket } from 'dgram';
import { createServer } from 'net';

const LOOPBACK = '127.0.0.1';

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
  });
}

export function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, LOOPBACK, () => socket.close(() => resolve(true)));
  });
}

/** An ephemeral port the system hands out for TCP on 127.0.0.1. */
function ephemeralTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}

/** `count` distinct ports free for both UDP and TCP on 127.0.0.1 (SIP listens on both). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt >= count * 20) throw new Error(`found only ${ports.length} of ${count} free loopback ports`);
    const port = await ephemeralTcpPort();
    if (!ports.includes(port) && (await udpPortFree(port)) && (await tcpPortFree(port))) ports.push(port);
  }
  return ports;
}

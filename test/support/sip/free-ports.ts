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

/**
 * Ports are picked at random below Linux's ephemeral range (32768–60999): a port the kernel handed out and took back
 * could be handed to another process's outgoing connection or socket before the SIP program binds it.
 */
const PICKED_PORTS = { from: 20_000, to: 32_767 };

/** `count` distinct ports free for both UDP and TCP on 127.0.0.1 (SIP listens on both). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt >= count * 20) throw new Error(`found only ${ports.length} of ${count} free loopback ports`);
    const port = PICKED_PORTS.from + Math.floor(Math.random() * (PICKED_PORTS.to - PICKED_PORTS.from + 1));
    if (!ports.includes(port) && (await udpPortFree(port)) && (await tcpPortFree(port))) ports.push(port);
  }
  return ports;
}

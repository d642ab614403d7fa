import { createServer } from 'net';
import type { RouteTable } from '../../runtime/dialplan';

/** A route table of loopback groups in try order, each with its endpoints' ports. */
export function routeTo(...groups: Array<{ id: string; ports: number[]; state?: 'active' | 'drained' }>): RouteTable {
  return { groups: groups.map(({ id, ports, state }) => ({ id, endpoints: ports.map((port) => ({ host: '127.0.0.1', port })), state: state ?? 'active' })) };
}

/** A loopback port nothing listens on: a connection to it is refused at once. */
export async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

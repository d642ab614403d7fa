import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { RawEslClient } from './raw-esl-client';

/**
 * A stand-in call-control server for tests: listens on an ephemeral port and hands every connection the
 * simulator's `socket` application makes to the test as a RawEslClient.
 */
export class OutboundTestServer {
  private readonly sockets = new Set<Socket>();
  private readonly arrived: RawEslClient[] = [];
  private readonly waiting: Array<(client: RawEslClient) => void> = [];
  connectionCount = 0;

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(onConnection?: (client: RawEslClient) => void): Promise<OutboundTestServer> {
    let instance: OutboundTestServer | undefined;
    const server = createServer((socket) => instance?.accept(socket, onConnection));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    instance = new OutboundTestServer(server, (server.address() as AddressInfo).port);
    return instance;
  }

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  nextConnection(timeoutMs = 3000): Promise<RawEslClient> {
    const ready = this.arrived.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no outbound connection within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push((client) => {
        clearTimeout(timer);
        resolve(client);
      });
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket, onConnection: ((client: RawEslClient) => void) | undefined): void {
    this.connectionCount++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const client = new RawEslClient(socket);
    if (onConnection !== undefined) {
      onConnection(client);
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter(client);
    else this.arrived.push(client);
  }
}

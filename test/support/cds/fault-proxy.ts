import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'net';

/**
 * A TCP relay for one direction of one site-to-site link, so a test can cut it (a network partition) and
 * heal it, and point it at a restarted node's new port. While cut, connections are reset at once.
 */
export class FaultProxy {
  target?: number;
  private cut = false;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server);
    server.on('connection', (socket) => proxy.relay(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  partition(): void {
    this.cut = true;
    this.sockets.forEach((socket) => socket.destroy());
  }

  heal(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    this.sockets.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(inbound: Socket): void {
    if (this.cut || this.target === undefined) {
      inbound.destroy();
      return;
    }
    const outbound = createConnection({ host: '127.0.0.1', port: this.target });
    for (const socket of [inbound, outbound]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  }
}

import { connect, type Socket } from 'net';

/** One keep-alive connection to a CDS local API with requests pipelined on it, answered in order (HTTP/1.1). */
class PipelinedConnection {
  private readonly waiting: Array<(status: number) => void> = [];
  private received: Buffer = Buffer.alloc(0);
  private corked = false;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A connection that fails or closes answers every request still waiting with status 0.
    socket.on('error', () => this.failAll());
    socket.on('close', () => this.failAll());
  }

  static open(port: number): Promise<PipelinedConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new PipelinedConnection(socket)));
      socket.once('error', reject);
    });
  }

  get inFlight(): number {
    return this.waiting.length;
  }

  /** Sends a request; the requests of one tick leave in one write. Resolves with the reply's status. */
  send(head: string, body: Buffer): Promise<number> {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(head);
    this.socket.write(body);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): void {
    this.socket.destroy();
  }

  /** Replies end at their headers plus `content-length` bytes (the local API always sends it). */
  private onData(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    for (;;) {
      const headersEnd = this.received.indexOf('\r\n\r\n');
      if (headersEnd < 0) return;
      const head = this.received.subarray(0, headersEnd).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      const end = headersEnd + 4 + length;
      if (this.received.length < end) return;
      this.received = this.received.subarray(end);
      this.waiting.shift()?.(Number(head.slice(9, 12)));
    }
  }

  private failAll(): void {
    for (const settle of this.waiting.splice(0)) settle(0);
    this.received = Buffer.alloc(0);
  }
}

/**
 * A load generator for the local API that costs little CPU beside the nodes it measures: property writes over a
 * few keep-alive connections, several requests pipelined on each, parsed no further than status and length. The
 * node sees ordinary requests; only the client is lighter than Node's HTTP client.
 */
export class PipelinedLocalClient {
  private constructor(
    private readonly connections: readonly PipelinedConnection[],
    private readonly authorization: string,
  ) {}

  static async open(port: number, connections: number, authorization: string): Promise<PipelinedLocalClient> {
    return new PipelinedLocalClient(await Promise.all(Array.from({ length: connections }, () => PipelinedConnection.open(port))), authorization);
  }

  /** `PUT /v1/calls/{callId}/properties/{name}` on the connection with the fewest requests under way; resolves with the status (0: no answer). */
  put(callId: string, name: string, value: unknown): Promise<number> {
    const body = Buffer.from(JSON.stringify({ value }));
    const head =
      `PUT /v1/calls/${encodeURIComponent(callId)}/properties/${encodeURIComponent(name)} HTTP/1.1\r\n` +
      `host: 127.0.0.1\r\nauthorization: ${this.authorization}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const connection = this.connections.reduce((least, next) => (next.inFlight < least.inFlight ? next : least));
    return connection.send(head, body);
  }

  close(): void {
    this.connections.forEach((connection) => connection.close());
  }
}

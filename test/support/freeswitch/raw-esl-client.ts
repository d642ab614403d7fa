import { Socket, connect } from 'node:net';

/** One frame as FreeSWITCH wrote it: header block, body, and the exact text. */
export class EslFrame {
  constructor(
    readonly headers: ReadonlyArray<readonly [string, string]>,
    readonly body: string,
    readonly raw: string
  ) {}

  header(name: string): string | undefined {
    return this.headers.find(([header]) => header === name)?.[1];
  }

  get contentType(): string | undefined {
    return this.header('Content-Type');
  }

  /** For a text/event-plain frame: the event's headers, URL-decoded. */
  eventHeaders(): Map<string, string> {
    const end = this.body.indexOf('\n\n');
    const block = end < 0 ? this.body : this.body.slice(0, end);
    const headers = new Map<string, string>();
    for (const line of block.split('\n')) {
      const colon = line.indexOf(': ');
      if (colon > 0) headers.set(line.slice(0, colon), decodeURIComponent(line.slice(colon + 2)));
    }
    return headers;
  }

  /** The event name of a plain or JSON event frame. */
  get eventName(): string | undefined {
    if (this.contentType === 'text/event-plain') return this.eventHeaders().get('Event-Name');
    if (this.contentType === 'text/event-json') return (JSON.parse(this.body) as Record<string, string>)['Event-Name'];
    return undefined;
  }
}

interface Waiter {
  readonly matches: (frame: EslFrame) => boolean;
  readonly resolve: (frame: EslFrame) => void;
}

/**
 * A deliberately dumb event-socket peer for tests: writes raw commands and parses the frames it gets
 * back, so tests can assert the exact bytes a real FreeSWITCH would send. Works as an inbound client
 * (`RawEslClient.connect`) or as the call-control end of an outbound connection (wrap the socket).
 */
export class RawEslClient {
  readonly closed: Promise<void>;
  private buffer = Buffer.alloc(0);
  private readonly frames: EslFrame[] = [];
  private readonly waiters: Waiter[] = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      socket.on('close', () => resolve());
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawEslClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawEslClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Frames received and not yet taken. */
  get pending(): readonly EslFrame[] {
    return this.frames;
  }

  send(line: string, headers: Readonly<Record<string, string>> = {}, body?: string): void {
    let text = `${line}\n`;
    for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\n`;
    if (body !== undefined) text += `Content-Length: ${Buffer.byteLength(body)}\n`;
    text += '\n';
    this.socket.write(body === undefined ? text : text + body);
  }

  /** Sends a command and returns the next command/reply or api/response frame (events stay queued). */
  command(line: string, headers: Readonly<Record<string, string>> = {}, timeoutMs = 3000): Promise<EslFrame> {
    this.send(line, headers);
    return this.nextFrame(
      (frame) => frame.contentType === 'command/reply' || frame.contentType === 'api/response',
      timeoutMs
    );
  }

  /** Takes the first frame (already received or arriving within the timeout) that matches. */
  nextFrame(matches: (frame: EslFrame) => boolean = () => true, timeoutMs = 3000): Promise<EslFrame> {
    const index = this.frames.findIndex(matches);
    if (index >= 0) return Promise.resolve(this.frames.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        matches,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `no matching ESL frame within ${timeoutMs} ms; pending: ${this.frames
              .map((f) => f.raw.split('\n')[0])
              .join(' | ')}`
          )
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  nextEvent(eventName: string, timeoutMs = 3000): Promise<EslFrame> {
    return this.nextFrame((frame) => frame.eventName === eventName, timeoutMs);
  }

  async close(): Promise<void> {
    this.socket.end();
    this.socket.destroy();
    await this.closed;
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end < 0) return;
      const headerText = this.buffer.toString('utf8', 0, end);
      const headers = headerText.split('\n').map((line): readonly [string, string] => {
        const colon = line.indexOf(': ');
        return colon < 0 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 2)];
      });
      const lengthHeader = headers.find(([name]) => name === 'Content-Length');
      const length = lengthHeader === undefined ? 0 : parseInt(lengthHeader[1], 10);
      if (this.buffer.length < end + 2 + length) return;
      const body = this.buffer.toString('utf8', end + 2, end + 2 + length);
      const raw = this.buffer.toString('utf8', 0, end + 2 + length);
      this.buffer = this.buffer.subarray(end + 2 + length);
      this.dispatch(new EslFrame(headers, body, raw));
    }
  }

  private dispatch(frame: EslFrame): void {
    const index = this.waiters.findIndex((waiter) => waiter.matches(frame));
    if (index < 0) {
      this.frames.push(frame);
      return;
    }
    this.waiters.splice(index, 1)[0].resolve(frame);
  }
}

import { connect } from 'net';

/** What came back for bytes written on a fresh connection: the HTTP status if any, or how it ended. */
export interface RawOutcome {
  /** Status of the first reply line, or undefined when none came. */
  readonly status?: number;
  /** `closed` by the server, `held` until our deadline, `error` (reset, refused). */
  readonly ending: 'closed' | 'held' | 'error';
}

export interface RawExchangeOptions {
  /** Give up (and close our side) after this long. */
  readonly holdMs: number;
  /** Do not read the reply: a client that stops reading (the kernel buffers fill, the server must not). */
  readonly paused?: boolean;
}

/** Writes `chunks` on a fresh loopback connection (a function chunk is awaited first: slow senders) and reports the reply. */
export function rawExchange(port: number, chunks: ReadonlyArray<Buffer | (() => Promise<Buffer>)>, options: RawExchangeOptions): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let head = '';
    let settled = false;
    const finish = (ending: RawOutcome['ending']) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      resolve({ status: status === undefined ? undefined : Number(status), ending });
    };
    const deadline = setTimeout(() => finish('held'), options.holdMs);
    socket.on('error', () => finish('error'));
    socket.on('close', () => finish('closed'));
    if (options.paused) socket.pause();
    else socket.on('data', (chunk: Buffer) => (head = head.length < 64 ? head + chunk.toString('latin1') : head));
    socket.once('connect', async () => {
      for (const chunk of chunks) {
        if (settled) return;
        socket.write(Buffer.isBuffer(chunk) ? chunk : await chunk());
      }
      if (options.paused) {
        // Read only the status line, then stop reading.
        socket.once('readable', () => {
          const first = socket.read(64) as Buffer | null;
          if (first) head = first.toString('latin1');
        });
      }
    });
  });
}

/** An HTTP/1.1 request as bytes (`content-length` set from the body unless given; the connection closed after the reply). */
export function httpRequestBytes(method: string, path: string, headers: Readonly<Record<string, string>>, body?: Buffer): Buffer {
  const all = { host: '127.0.0.1', connection: 'close', ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}), ...headers };
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** One client packet: the command line, its `Name: value` headers and an optional Content-Length body. */
export class EslCommand {
  constructor(
    readonly line: string,
    readonly headers: ReadonlyArray<readonly [string, string]>,
    readonly body: string
  ) {}

  header(name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (const [header, value] of this.headers) {
      if (header.toLowerCase() === wanted) return value;
    }
    return undefined;
  }
}

const LF = 0x0a;
const CR = 0x0d;

interface PendingHeaders {
  readonly line: string;
  readonly headers: Array<readonly [string, string]>;
  readonly bodyLength: number;
}

/**
 * Incremental parser for what clients send, following read_packet in mod_event_socket.c: leading blank
 * lines are skipped, CR is ignored, a packet ends at an empty line, and `Content-Length` announces a body.
 */
export class EslCommandParser {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: PendingHeaders | undefined;

  push(chunk: Buffer): EslCommand[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const commands: EslCommand[] = [];
    for (;;) {
      if (this.pending === undefined) {
        const headers = this.takeHeaderBlock();
        if (headers === undefined) break;
        if (headers.bodyLength === 0) {
          commands.push(new EslCommand(headers.line, headers.headers, ''));
          continue;
        }
        this.pending = headers;
      }
      if (this.buffer.length < this.pending.bodyLength) break;
      const body = this.buffer.toString('utf8', 0, this.pending.bodyLength);
      this.buffer = this.buffer.subarray(this.pending.bodyLength);
      commands.push(new EslCommand(this.pending.line, this.pending.headers, body));
      this.pending = undefined;
    }
    return commands;
  }

  private takeHeaderBlock(): PendingHeaders | undefined {
    let start = 0;
    while (start < this.buffer.length && (this.buffer[start] === LF || this.buffer[start] === CR)) start++;
    let newlines = 0;
    let end = -1;
    for (let i = start; i < this.buffer.length; i++) {
      const byte = this.buffer[i];
      if (byte === LF) {
        newlines++;
        if (newlines === 2) {
          end = i + 1;
          break;
        }
      } else if (byte !== CR) {
        newlines = 0;
      }
    }
    if (end < 0) {
      this.buffer = this.buffer.subarray(start);
      return undefined;
    }
    const lines = this.buffer
      .toString('utf8', start, end)
      .split(/[\r\n]+/)
      .filter((line) => line !== '');
    this.buffer = this.buffer.subarray(end);
    const headers: Array<readonly [string, string]> = [];
    let bodyLength = 0;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ +/, '');
      headers.push([name, value]);
      if (name.toLowerCase() === 'content-length') bodyLength = Math.max(0, parseInt(value, 10) || 0);
    }
    return { line: lines[0] ?? '', headers, bodyLength };
  }
}

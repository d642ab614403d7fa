import { connect as tcpConnect, type Socket } from 'net';
import { connect as tlsConnect, type TLSSocket } from 'tls';
import { awaitSipMessage, type SipMessage, splitSipMessages } from './sip-message';

export interface StreamSipClientOptions {
  readonly host: string;
  readonly port: number;
  /** Address the connection leaves from (127.0.0.x stands in for hosts in and out of the allow-list). */
  readonly localAddress: string;
  /** SIP over TLS, trusting only `ca` and checking the certificate against `serverName`; plain TCP when absent. */
  readonly tls?: { readonly ca: string; readonly serverName: string };
}

/** A SIP client on one TCP or TLS connection (the Debian SIPp has no TLS): sends text, collects what comes back. */
export class StreamSipClient {
  readonly received: SipMessage[] = [];
  /** Bytes that never formed a complete SIP message (for a plain connection to a TLS port: the TLS alert, if any). */
  private unparsed = '';
  private closedFlag = false;

  private constructor(private readonly socket: Socket | TLSSocket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      const { messages, rest } = splitSipMessages(this.unparsed + chunk);
      this.received.push(...messages);
      this.unparsed = rest;
    });
    socket.on('close', () => (this.closedFlag = true));
    socket.on('error', () => undefined);
  }

  static connect(options: StreamSipClientOptions): Promise<StreamSipClient> {
    return new Promise((resolve, reject) => {
      const base = { host: options.host, port: options.port, localAddress: options.localAddress };
      const socket = options.tls
        ? tlsConnect({ ...base, ca: options.tls.ca, servername: options.tls.serverName, minVersion: 'TLSv1.2' }, () => resolve(new StreamSipClient(socket)))
        : tcpConnect(base, () => resolve(new StreamSipClient(socket)));
      socket.once('error', reject);
    });
  }

  /** The local port of the connection, for Via and Contact. */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get garbage(): string {
    return this.unparsed;
  }

  send(message: string): void {
    this.socket.write(message, 'latin1');
  }

  /** The first message received (since the start) that `matches`, waiting up to `timeoutMs`. */
  async reply(matches: (message: SipMessage) => boolean, timeoutMs = 5_000, what = 'a matching SIP message'): Promise<SipMessage> {
    return awaitSipMessage(this.received, matches, timeoutMs, what);
  }

  close(): void {
    this.socket.destroy();
  }
}

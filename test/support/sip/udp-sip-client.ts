import { createSocket, type Socket } from 'dgram';
import { awaitSipMessage, type SipMessage, splitSipMessages } from './sip-message';

/** A SIP endpoint on one UDP socket of 127.0.0.x: sends text to a peer, collects every message that comes back. */
export class UdpSipClient {
  readonly received: SipMessage[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on('message', (datagram) => this.received.push(...splitSipMessages(datagram.toString('latin1')).messages));
  }

  static bind(address: string): Promise<UdpSipClient> {
    const socket = createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve(new UdpSipClient(socket, address, socket.address().port)));
    });
  }

  send(message: string, port: number, host = '127.0.0.1'): void {
    this.socket.send(Buffer.from(message, 'latin1'), port, host);
  }

  /** The first message received that `matches`, waiting up to `timeoutMs`. */
  async reply(matches: (message: SipMessage) => boolean, timeoutMs: number, what: string): Promise<SipMessage> {
    return awaitSipMessage(this.received, matches, timeoutMs, what);
  }

  close(): void {
    this.socket.close();
  }
}

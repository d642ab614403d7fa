import { connect, type Socket } from 'net';
import { waitFor } from '../support/wait-for';
import { CommandReader, type ReceivedCommand } from './esl-wire';

/** Plays FreeSWITCH's `socket` application: connects to an outbound ESL server for one call. */
export class FakeFreeSwitchChannel {
  readonly closed: Promise<void>;
  private readonly received: ReceivedCommand[] = [];

  private constructor(private readonly socket: Socket) {
    const reader = new CommandReader();
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => this.received.push(...reader.push(chunk.toString('utf8'))));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async connect(port: number): Promise<FakeFreeSwitchChannel> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new FakeFreeSwitchChannel(socket);
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** The next command the application sent (waits for it). */
  async nextCommand(timeoutMs = 2000): Promise<ReceivedCommand> {
    await waitFor(() => this.received.length > 0, { timeoutMs, message: 'a command from the application' });
    return this.received.shift() as ReceivedCommand;
  }

  write(raw: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(raw);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

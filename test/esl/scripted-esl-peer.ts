import { createServer, type AddressInfo, type Server, type Socket } from 'net';
import {
  AUTH_REQUEST,
  CommandReader,
  apiResponse,
  commandReply,
  disconnectNotice,
  plainEvent,
  type ReceivedCommand,
} from './esl-wire';

/** Returned by an api script that wrote the reply itself: the peer moves on to the next command. */
export const REPLY_WRITTEN = Symbol('reply written by the script');

/** What the peer answers to an api command: a body, a body later, never (null), or REPLY_WRITTEN. */
export type ApiAnswer = string | Promise<string> | null | typeof REPLY_WRITTEN;

export interface ScriptedEslPeerOptions {
  readonly password?: string;
  /** Send the auth/request greeting on connect (default true). */
  readonly greet?: boolean;
  /** Answers `api`/`bgapi` commands; without it (or when it returns undefined) the command is unknown. */
  readonly api?: (command: string, connection: PeerConnection) => ApiAnswer | undefined;
}

/** One client connection to the scripted inbound FreeSWITCH. Handles commands in order, like FreeSWITCH. */
export class PeerConnection {
  readonly commands: ReceivedCommand[] = [];
  readonly subscriptions = new Set<string>();
  /** Most commands ever received but not yet answered at the same time (1 for a well-behaved client). */
  maxOutstanding = 0;
  closed = false;
  private outstanding = 0;
  private authenticated = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly socket: Socket,
    private readonly options: ScriptedEslPeerOptions,
  ) {
    const reader = new CommandReader();
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
    socket.on('data', (chunk) => {
      for (const command of reader.push(chunk.toString('utf8'))) this.receive(command);
    });
    if (options.greet ?? true) this.write(AUTH_REQUEST);
  }

  get commandLines(): string[] {
    return this.commands.map((command) => command.line);
  }

  write(raw: string): void {
    if (!this.socket.destroyed) this.socket.write(raw);
  }

  /** Writes one byte per TCP write, yielding to the event loop in between. */
  async writeBytewise(raw: string): Promise<void> {
    for (const byte of Buffer.from(raw)) {
      if (this.socket.destroyed) return;
      this.socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  sendEvent(headers: Record<string, string>, body?: string): void {
    this.write(plainEvent(headers, body));
  }

  private receive(command: ReceivedCommand): void {
    this.commands.push(command);
    this.outstanding += 1;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    this.chain = this.chain.then(async () => {
      await this.handle(command);
      this.outstanding -= 1;
    });
  }

  private async handle({ line, headers }: ReceivedCommand): Promise<void> {
    const [verb, ...words] = line.split(' ');
    const argument = words.join(' ');
    if (verb === 'auth') return this.authenticate(argument);
    if (!this.authenticated) return this.write(commandReply('-ERR command not found'));
    switch (verb) {
      case 'api': {
        const answer = this.options.api?.(argument, this);
        if (answer !== REPLY_WRITTEN) this.write(apiResponse(await this.answer(argument, answer)));
        return;
      }
      case 'bgapi': {
        const jobUuid = headers['Job-UUID'];
        this.write(commandReply(`+OK Job-UUID: ${jobUuid}`, { 'Job-UUID': jobUuid }));
        // Like FreeSWITCH, the job runs on its own: the connection does not wait for it.
        void this.answer(argument, this.options.api?.(argument, this)).then((output) => this.reportJob(jobUuid, argument, output));
        return;
      }
      case 'event':
        for (const name of words.slice(1)) this.subscriptions.add(name);
        this.write(commandReply(`+OK event listener enabled ${words[0]}`));
        return;
      case 'filter':
        this.write(commandReply(`+OK filter added. [${words[0]}]=[${words.slice(1).join(' ')}]`));
        return;
      case 'exit':
        this.write(commandReply('+OK bye'));
        this.write(disconnectNotice());
        this.socket.end();
        return;
      default:
        this.write(commandReply('-ERR command not found'));
    }
  }

  private reportJob(jobUuid: string, command: string, output: string): void {
    if (!this.subscriptions.has('BACKGROUND_JOB') && !this.subscriptions.has('ALL')) return;
    const [jobCommand, ...jobArguments] = command.split(' ');
    const jobHeaders = { 'Job-Command': jobCommand, 'Job-Command-Arg': jobArguments.join(' ') };
    this.sendEvent({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': jobUuid, ...jobHeaders }, output);
  }

  private authenticate(password: string): void {
    if (password === (this.options.password ?? 'ClueCon')) {
      this.authenticated = true;
      this.write(commandReply('+OK accepted'));
      return;
    }
    this.write(commandReply('-ERR invalid'));
    this.write(disconnectNotice());
    this.socket.end();
  }

  private answer(command: string, answer: ApiAnswer | undefined): Promise<string> {
    if (answer === null || answer === REPLY_WRITTEN) return new Promise<string>(() => undefined);
    return Promise.resolve(answer ?? `-ERR ${command.split(' ')[0]} Command not found!\n`);
  }
}

/** A scripted inbound FreeSWITCH (the ESL server on port 8021) on 127.0.0.1. */
export class ScriptedEslPeer {
  readonly connections: PeerConnection[] = [];

  private constructor(
    private readonly server: Server,
    options: ScriptedEslPeerOptions,
  ) {
    server.on('connection', (socket) => this.connections.push(new PeerConnection(socket, options)));
  }

  /** Listens on `port` (0 = ephemeral; pass a previous peer's port to simulate a restart). */
  static async start(options: ScriptedEslPeerOptions = {}, port = 0): Promise<ScriptedEslPeer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new ScriptedEslPeer(server, options);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get lastConnection(): PeerConnection | undefined {
    return this.connections[this.connections.length - 1];
  }

  /** Stops like a crashed FreeSWITCH: every connection is reset and the port closed. */
  async stop(): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

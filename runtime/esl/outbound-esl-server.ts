import { createServer, type AddressInfo, type Server, type Socket } from 'net';
import { Connection } from 'modesl';
import { parseChannelData } from './channel-data';
import { EslSession } from './esl-session';
import { OutboundCall } from './outbound-call';
import { settlesWithin, systemTimers, type Timers } from './timers';
import { TypedEmitter } from './typed-emitter';

export interface OutboundEslServerOptions {
  /** Address to bind; port 0 picks a free port (read it back from `port`). */
  readonly host: string;
  readonly port: number;
  /** Receives each call once set up. If it throws or rejects, the call is detached (FreeSWITCH continues the dialplan). */
  readonly onCall: (call: OutboundCall) => void | Promise<void>;
  /**
   * Seconds FreeSWITCH keeps a call's socket open after the hangup (`linger N`, needs `socket ... full`), so the
   * hangup event is never lost; the socket is closed as soon as it arrives. @default no linger
   */
  readonly lingerSeconds?: number;
  /** Bound on the CHANNEL_DATA reply to `connect` (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
  /** Bound on each command's reply (default 5 000 ms). */
  readonly commandTimeoutMs?: number;
  /** Default bound on an executed application's run (default one hour: bridges and playbacks are long). */
  readonly executeTimeoutMs?: number;
  /** How long closing a call's socket waits after `exit` before destroying it (default 1 000 ms). */
  readonly closeTimeoutMs?: number;
  readonly timers?: Timers;
}

export interface OutboundCloseOptions {
  /** Wait up to this long for calls in progress to end before detaching the rest (default 0). */
  readonly waitForCallsMs?: number;
}

type ServerEvents = {
  /** A call failed to set up (call undefined) or its handler failed; other calls are unaffected. */
  callError: [error: Error, call: OutboundCall | undefined];
};

// Detects a FreeSWITCH that vanished without closing the socket, so `ended` still settles.
const KEEPALIVE_INITIAL_DELAY_MS = 30_000;

/** Accepts the per-call connections of the dialplan `socket` application (outbound ESL). */
export class OutboundEslServer extends TypedEmitter<ServerEvents> {
  private readonly sessions = new Set<EslSession>();
  private readonly calls = new Set<OutboundCall>();
  private readonly timers: Timers;
  /** The bound port (useful with port 0). */
  readonly port: number;

  private constructor(
    private readonly server: Server,
    private readonly options: OutboundEslServerOptions,
  ) {
    super();
    this.timers = options.timers ?? systemTimers;
    this.port = (server.address() as AddressInfo).port;
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (error) => this.emit('callError', error, undefined));
  }

  static async listen(options: OutboundEslServerOptions): Promise<OutboundEslServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new OutboundEslServer(server, options);
  }

  /** Calls handed to the handler that have not ended yet. */
  get activeCalls(): number {
    return this.calls.size;
  }

  /**
   * Stops accepting connections, optionally waits for calls in progress to end, then detaches every remaining
   * socket (sends `exit`; FreeSWITCH keeps those calls up and continues their dialplan).
   */
  async close(options: OutboundCloseOptions = {}): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const waitForCallsMs = options.waitForCallsMs ?? 0;
    if (waitForCallsMs > 0) {
      await settlesWithin(Promise.all([...this.calls].map((call) => call.ended)), waitForCallsMs, this.timers);
    }
    await Promise.all([...this.sessions].map((session) => session.close(this.closeTimeoutMs)));
    await stopped;
  }

  private get closeTimeoutMs(): number {
    return this.options.closeTimeoutMs ?? 1_000;
  }

  private accept(socket: Socket): void {
    socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
    const session = new EslSession(new Connection(socket), socket, {
      peer: `${socket.remoteAddress}:${socket.remotePort}`,
      commandTimeoutMs: this.options.commandTimeoutMs ?? 5_000,
      timers: this.timers,
    });
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    this.setUpCall(session).then(
      (call) => this.handOver(call),
      (error: Error) => {
        session.abandon('was closed because the call could not be set up');
        this.emit('callError', error, undefined);
      },
    );
  }

  private async setUpCall(session: EslSession): Promise<OutboundCall> {
    await session.handshake(this.options.connectTimeoutMs ?? 10_000);
    const channelData = parseChannelData(session.peer, session.channelDataHeaders() ?? {});
    const call = new OutboundCall(session, channelData, {
      executeTimeoutMs: this.options.executeTimeoutMs ?? 3_600_000,
      closeTimeoutMs: this.closeTimeoutMs,
      timers: this.timers,
    });
    await call.start(this.options.lingerSeconds);
    return call;
  }

  private handOver(call: OutboundCall): void {
    this.calls.add(call);
    void call.ended.then(() => this.calls.delete(call));
    Promise.resolve()
      .then(() => this.options.onCall(call))
      .catch((error: Error) => {
        this.emit('callError', error, call);
        void call.detach();
      });
  }
}

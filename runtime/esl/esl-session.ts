import type { Socket } from 'net';
import type { Connection, Event as ModeslEvent } from 'modesl';
import { CommandQueue } from './command-queue';
import { requireSingleLine } from './command-text';
import { EslConnectionError } from './errors';
import { headerRecord, toEslEvent, type EslEvent } from './esl-event';
import { hardenModeslConnection } from './modesl-hardening';
import { classifyApiReply, classifyAuthReply, classifyCommandReply } from './reply-classification';
import { settlesWithin, type Timers } from './timers';
import { TypedEmitter } from './typed-emitter';

export interface EslSessionOptions {
  /** host:port of the other side, for messages. */
  readonly peer: string;
  readonly commandTimeoutMs: number;
  readonly timers: Timers;
}

/** A text/disconnect-notice: `disposition` is `disconnect` or `linger` on outbound sockets; `text` its first line. */
export interface DisconnectNotice {
  readonly disposition?: string;
  readonly text: string;
}

type SessionEvents = {
  event: [event: EslEvent];
  notice: [notice: DisconnectNotice];
  close: [reason: EslConnectionError];
};

function stringHeader(event: ModeslEvent, name: string): string | undefined {
  const value = event.getHeader(name);
  return typeof value === 'string' ? value : undefined;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0];
}

function isSystemError(error: Error): boolean {
  return typeof (error as NodeJS.ErrnoException).code === 'string';
}

/**
 * One ESL TCP session over a modesl Connection, inbound or outbound: serialised commands with timeouts,
 * replies classified into typed errors, events as plain objects, and a close that fails everything pending.
 */
export class EslSession extends TypedEmitter<SessionEvents> {
  readonly closed: Promise<void>;
  private readonly queue: CommandQueue;
  private closeReason?: string;
  private hasClosed = false;
  private markClosed!: () => void;

  constructor(
    private readonly connection: Connection,
    private readonly socket: Socket,
    private readonly options: EslSessionOptions,
  ) {
    super();
    hardenModeslConnection(connection, (error) =>
      this.abandon(`was closed because it sent a malformed ESL frame (${error.message})`),
    );
    // Commands are small writes answered one at a time: Nagle's algorithm would hold each until a delayed ACK.
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.queue = new CommandQueue(options.timers, (command) =>
      this.abandon(`was closed because '${command}' timed out (later replies could not be matched any more)`),
    );
    // modesl re-emits socket errors (and JSON parse errors) here; a socket error is always followed by 'close'.
    connection.on('error', (error) => {
      if (isSystemError(error)) this.closeReason ??= `failed: ${error.message}`;
    });
    connection.on('esl::event::**', (event, headers) => this.dispatch(event, headers?.['Content-Type']));
    socket.once('close', () => this.onSocketClosed());
  }

  get peer(): string {
    return this.options.peer;
  }

  get isClosed(): boolean {
    return this.hasClosed;
  }

  /**
   * Waits until modesl reports the session ready (inbound: password accepted; outbound: CHANNEL_DATA received).
   * On failure or timeout the socket is destroyed.
   */
  handshake(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        this.options.timers.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (!error) return resolve();
        this.abandon('was closed after a failed handshake');
        reject(error);
      };
      const onAbort = (): void => finish(new EslConnectionError(this.peer, 'was aborted while connecting'));
      const timer = this.options.timers.setTimeout(
        () => finish(new EslConnectionError(this.peer, `did not complete the ESL handshake within ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.connection.once('esl::ready', () => finish());
      this.connection.once('esl::event::auth::fail', (reply) => {
        const outcome = classifyAuthReply(this.peer, stringHeader(reply, 'Reply-Text'));
        finish(outcome.ok ? new EslConnectionError(this.peer, 'rejected the authentication') : outcome.error);
      });
      this.once('close', (reason) => finish(reason));
    });
  }

  /** Runs `api command`, resolving with the response body. */
  async api(command: string, timeoutMs = this.options.commandTimeoutMs): Promise<string> {
    const line = requireSingleLine(`api ${command}`, 'ESL command');
    return this.queue.run<string>(line, timeoutMs, (settle) =>
      this.connection.api(command, (reply) => settle(classifyApiReply(line, reply.getBody()))),
    );
  }

  /** Sends a command (with optional headers) answered by a command/reply; resolves with its `+OK` Reply-Text. */
  async sendCommand(
    line: string,
    headers: Record<string, string> = {},
    timeoutMs = this.options.commandTimeoutMs,
  ): Promise<string> {
    requireSingleLine(line, 'ESL command');
    for (const [name, value] of Object.entries(headers)) requireSingleLine(value, `ESL header ${name}`);
    return this.queue.run<string>(line, timeoutMs, (settle) =>
      this.connection.sendRecv(line, headers, (reply) =>
        settle(classifyCommandReply(line, stringHeader(reply, 'Reply-Text'))),
      ),
    );
  }

  /** Outbound only: the decoded headers of the CHANNEL_DATA reply to `connect`. */
  channelDataHeaders(): Record<string, string> | undefined {
    const info = this.connection.getInfo();
    return info ? headerRecord(info.headers) : undefined;
  }

  /**
   * Closes politely: fails pending commands, sends `exit`, gives the peer `graceMs` to close, then destroys
   * the socket.
   */
  async close(graceMs: number): Promise<void> {
    if (this.hasClosed) return;
    this.closeReason ??= 'was closed by the client';
    this.queue.close((command) => new EslConnectionError(this.peer, 'was closed by the client', command));
    if (!this.socket.destroyed) this.connection.send('exit');
    await settlesWithin(this.closed, graceMs, this.options.timers);
    this.socket.destroy();
    await this.closed;
  }

  /** Drops the connection at once, failing pending commands with `reason`. */
  abandon(reason: string): void {
    if (this.hasClosed) return;
    this.closeReason ??= reason;
    this.queue.close((command) => new EslConnectionError(this.peer, reason, command));
    this.socket.destroy();
  }

  private dispatch(event: ModeslEvent, contentType: unknown): void {
    switch (contentType) {
      case 'text/event-plain':
      case 'text/event-json': {
        const eslEvent = toEslEvent(event.headers, event.getBody());
        if (eslEvent) this.emit('event', eslEvent);
        return;
      }
      case 'text/disconnect-notice': {
        const notice = { disposition: stringHeader(event, 'Content-Disposition'), text: firstLine(event.getBody()) };
        if (notice.disposition !== 'linger') this.closeReason ??= `was closed by the peer (${notice.text})`;
        this.emit('notice', notice);
        return;
      }
      case 'text/rude-rejection':
        this.closeReason ??= `was rejected by the server's ACL (${firstLine(event.getBody())})`;
        return;
    }
  }

  private onSocketClosed(): void {
    const reason = this.closeReason ?? 'was closed by the peer';
    this.hasClosed = true;
    this.queue.close((command) => new EslConnectionError(this.peer, reason, command));
    this.markClosed();
    this.emit('close', new EslConnectionError(this.peer, reason));
  }
}

import { randomUUID } from 'crypto';
import { channelVariable, type ChannelData } from './channel-data';
import { EslConnectionError } from './errors';
import type { EslEvent } from './esl-event';
import type { EslSession } from './esl-session';
import { PendingReplies } from './pending-replies';
import type { Timers } from './timers';
import { TypedEmitter } from './typed-emitter';

export interface ExecuteOptions {
  /** Bound on the application's run, until CHANNEL_EXECUTE_COMPLETE (default: the server's executeTimeoutMs). */
  readonly timeoutMs?: number;
}

export interface ExecuteResult {
  /** The Application-Response header of CHANNEL_EXECUTE_COMPLETE, if any. */
  readonly response?: string;
  readonly event: EslEvent;
}

export interface CallEnd {
  /** From CHANNEL_HANGUP(_COMPLETE); absent when the end was only seen as a disconnect notice or a closed socket. */
  readonly hangupCause?: string;
}

export interface OutboundCallOptions {
  readonly executeTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly timers: Timers;
}

type CallEvents = {
  /** Every event of this channel (the socket is subscribed with `myevents`). */
  event: [event: EslEvent];
};

const HANGUP_EVENTS = new Set(['CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE']);

/** One call handed to us by the dialplan `socket` application. */
export class OutboundCall extends TypedEmitter<CallEvents> {
  /** Settles (never rejects) when the call ends: hangup event, disconnect notice or socket closed. */
  readonly ended: Promise<CallEnd>;
  private settleEnded!: (end: CallEnd) => void;
  private hasEndedFlag = false;
  private lingerRequested = false;
  private readonly executions: PendingReplies<ExecuteResult>;

  /** @internal created by OutboundEslServer. */
  constructor(
    private readonly session: EslSession,
    private readonly data: ChannelData,
    private readonly options: OutboundCallOptions,
  ) {
    super();
    this.executions = new PendingReplies(options.timers);
    this.ended = new Promise((resolve) => (this.settleEnded = resolve));
    session.on('event', (event) => this.onEvent(event));
    session.on('notice', (notice) => {
      if (notice.disposition === 'linger') {
        // The channel is down; its last events (the hangup with its cause) still follow on this socket.
        this.executions.failAll((command) => new EslConnectionError(session.peer, `ended because the call hung up (${notice.text})`, command));
        return;
      }
      this.end({});
      this.executions.failAll(
        (command) => new EslConnectionError(session.peer, `ended because the call hung up (${notice.text})`, command),
      );
    });
    session.once('close', (reason) => {
      this.end({});
      this.executions.failAll((command) => new EslConnectionError(reason.peer, reason.reason, command));
    });
  }

  /** All CHANNEL_DATA headers, URL-decoded. */
  get channelData(): Readonly<Record<string, string>> {
    return this.data.headers;
  }

  get uuid(): string {
    return this.data.uuid;
  }

  get callerIdNumber(): string | undefined {
    return this.data.callerIdNumber;
  }

  get destinationNumber(): string | undefined {
    return this.data.destinationNumber;
  }

  get hasEnded(): boolean {
    return this.hasEndedFlag;
  }

  /** A channel variable as reported in CHANNEL_DATA. */
  variable(name: string): string | undefined {
    return channelVariable(this.data, name);
  }

  /**
   * @internal subscribes to this channel's events before the call is handed out. With `lingerSeconds`, FreeSWITCH
   * keeps the socket open that long after the hangup: without it, mod_event_socket stops at the first check that finds
   * the channel down and discards the events still queued, which can include the hangup itself.
   */
  async start(lingerSeconds: number | undefined): Promise<void> {
    await this.session.sendCommand('myevents');
    if (lingerSeconds === undefined) return;
    await this.session.sendCommand(`linger ${lingerSeconds}`);
    this.lingerRequested = true;
  }

  /**
   * Runs a dialplan application on the channel and resolves on its CHANNEL_EXECUTE_COMPLETE, matched by the
   * Event-UUID sent with it. Rejects with EslCommandError if FreeSWITCH refuses the sendmsg, EslTimeoutError,
   * or EslConnectionError if the call ends first.
   */
  execute(app: string, arg?: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const eventUuid = randomUUID();
    const timeoutMs = options.timeoutMs ?? this.options.executeTimeoutMs;
    const completion = this.executions.wait(eventUuid, arg === undefined ? `execute ${app}` : `execute ${app} ${arg}`, timeoutMs);
    const headers: Record<string, string> = { 'call-command': 'execute', 'execute-app-name': app };
    if (arg !== undefined) headers['execute-app-arg'] = arg;
    headers['Event-UUID'] = eventUuid;
    // On a static (not async) socket FreeSWITCH runs the application before replying to sendmsg.
    const replyTimeoutMs = this.data.socketMode === 'static' ? timeoutMs : undefined;
    this.session
      .sendCommand(`sendmsg ${this.uuid}`, headers, replyTimeoutMs)
      .catch((error: Error) => this.executions.settle(eventUuid, { ok: false, error }));
    return completion;
  }

  /** Sets a channel variable (`execute set NAME=VALUE`). */
  async setVariable(name: string, value: string): Promise<void> {
    await this.execute('set', `${name}=${value}`);
  }

  /** Hangs the call up (default cause NORMAL_CLEARING); resolves when FreeSWITCH accepts the request. */
  async hangup(cause = 'NORMAL_CLEARING'): Promise<void> {
    await this.session.sendCommand(`sendmsg ${this.uuid}`, { 'call-command': 'hangup', 'hangup-cause': cause });
  }

  /**
   * Closes this call's socket without hanging up: FreeSWITCH continues the dialplan after the socket action
   * (in async mode), exactly as if this process had gone away.
   */
  detach(): Promise<void> {
    return this.session.close(this.options.closeTimeoutMs);
  }

  private onEvent(event: EslEvent): void {
    if (event.name === 'CHANNEL_EXECUTE_COMPLETE') {
      const applicationUuid = event.headers['Application-UUID'];
      const response = event.headers['Application-Response'];
      if (applicationUuid) this.executions.settle(applicationUuid, { ok: true, value: { response, event } });
    } else if (HANGUP_EVENTS.has(event.name) && (event.headers['Unique-ID'] ?? this.uuid) === this.uuid) {
      const cause = event.headers['Hangup-Cause'];
      this.end(cause ? { hangupCause: cause } : {});
    }
    this.emit('event', event);
  }

  private end(end: CallEnd): void {
    if (this.hasEndedFlag) return;
    this.hasEndedFlag = true;
    this.settleEnded(end);
    // A lingering socket has served its purpose once the hangup is known: let FreeSWITCH release the session now.
    if (this.lingerRequested) void this.session.close(this.options.closeTimeoutMs).catch(() => undefined);
  }
}

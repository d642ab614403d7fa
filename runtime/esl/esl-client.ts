import { randomUUID } from 'crypto';
import { Connection } from 'modesl';
import { requireSingleLine } from './command-text';
import { EslConnectionError } from './errors';
import type { EslEvent } from './esl-event';
import { EslSession } from './esl-session';
import { PendingReplies } from './pending-replies';
import { classifyApiReply } from './reply-classification';
import { systemTimers, type Timers } from './timers';
import { TypedEmitter } from './typed-emitter';

export interface EslConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  /** Bound on TCP connect + greeting + authentication (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
  /** Default bound on each command's reply (default 5 000 ms). */
  readonly commandTimeoutMs?: number;
  /** How long close() waits for the server to hang up after `exit` before destroying the socket (default 1 000 ms). */
  readonly closeTimeoutMs?: number;
  readonly timers?: Timers;
  /** Aborting destroys a connection still being established; connect() then rejects. */
  readonly signal?: AbortSignal;
}

export interface CommandOptions {
  /** Overrides the client's commandTimeoutMs for this command. */
  readonly timeoutMs?: number;
}

export interface BackgroundJobOptions {
  /** Bound on the whole job, from sending `bgapi` to its BACKGROUND_JOB event (default 60 000 ms). */
  readonly timeoutMs?: number;
}

export type EventFormat = 'plain' | 'json';

export interface SubscribeOptions {
  readonly format?: EventFormat;
}

type ClientEvents = {
  event: [event: EslEvent];
  close: [reason: EslConnectionError];
};

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 1_000;
const DEFAULT_JOB_TIMEOUT_MS = 60_000;

/** Joins words of a command line, refusing empty lists and words that are empty or contain whitespace. */
function requireWords(words: readonly string[], what: string): string {
  if (words.length === 0 || words.some((word) => !/^\S+$/.test(word))) {
    throw new RangeError(`${what} must be non-empty words: ${JSON.stringify(words)}`);
  }
  return words.join(' ');
}

/**
 * An authenticated inbound ESL connection to FreeSWITCH (port 8021). Commands run one at a time; a command
 * that times out closes the connection (see CommandQueue). Emits `event` for subscribed events and `close`
 * once, when the connection is gone (pending commands have then failed with EslConnectionError).
 */
export class EslClient extends TypedEmitter<ClientEvents> {
  private readonly jobs: PendingReplies<string>;
  private readonly subscribedEvents = new Set<string>();
  private readonly eventNamesPassingFilters = new Set<string>();
  private eventFormat: EventFormat = 'plain';
  private filtering = false;

  private constructor(
    private readonly session: EslSession,
    private readonly closeTimeoutMs: number,
    timers: Timers,
  ) {
    super();
    this.jobs = new PendingReplies(timers);
    session.on('event', (event) => this.onEvent(event));
    session.once('close', (reason) => {
      this.jobs.failAll((command) => new EslConnectionError(reason.peer, reason.reason, command));
      this.emit('close', reason);
    });
  }

  /** Connects and authenticates; rejects with EslAuthError or EslConnectionError (also on timeout). */
  static async connect(options: EslConnectOptions): Promise<EslClient> {
    const timers = options.timers ?? systemTimers;
    requireSingleLine(options.password, 'ESL password');
    const connection = new Connection(options.host, options.port, options.password);
    if (!connection.socket) throw new Error('modesl did not open a socket');
    const session = new EslSession(connection, connection.socket, {
      peer: `${options.host}:${options.port}`,
      commandTimeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      timers,
    });
    const client = new EslClient(session, options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS, timers);
    await session.handshake(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, options.signal);
    return client;
  }

  get peer(): string {
    return this.session.peer;
  }

  get isClosed(): boolean {
    return this.session.isClosed;
  }

  /** Runs an api command and resolves with its output (the raw body, trailing newline included). */
  api(command: string, options: CommandOptions = {}): Promise<string> {
    return this.session.api(command, options.timeoutMs);
  }

  /**
   * Runs a command in the background and resolves with its output from the BACKGROUND_JOB event, classified
   * like an api reply. Subscribes to BACKGROUND_JOB (and lets it through the filters) on first use.
   */
  bgapi(command: string, options: BackgroundJobOptions = {}): Promise<string> {
    const jobUuid = randomUUID();
    const line = `bgapi ${command}`;
    const result = this.jobs.wait(jobUuid, line, options.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS);
    this.deliverBackgroundJobs()
      .then(() => this.session.sendCommand(line, { 'Job-UUID': jobUuid }))
      .catch((error: Error) => this.jobs.settle(jobUuid, { ok: false, error }));
    return result;
  }

  /** Subscribes to events (`event plain|json NAMES`); FreeSWITCH adds to earlier subscriptions, and the last format wins. */
  async subscribe(eventNames: readonly string[], options: SubscribeOptions = {}): Promise<void> {
    const format = options.format ?? 'plain';
    await this.session.sendCommand(`event ${format} ${requireWords(eventNames, 'event names')}`);
    this.eventFormat = format;
    for (const name of eventNames) this.subscribedEvents.add(name.toUpperCase());
  }

  /** Adds a positive event filter; once any filter exists, only events matching one of them are delivered. */
  async filter(header: string, value: string): Promise<void> {
    await this.session.sendCommand(`filter ${requireWords([header], 'a filter header')} ${value}`);
    this.filtering = true;
    if (header === 'Event-Name') this.eventNamesPassingFilters.add(value);
  }

  /** Sends `exit`, waits up to closeTimeoutMs for the server to hang up, then destroys the socket. */
  close(): Promise<void> {
    return this.session.close(this.closeTimeoutMs);
  }

  private async deliverBackgroundJobs(): Promise<void> {
    if (!this.subscribedEvents.has('BACKGROUND_JOB') && !this.subscribedEvents.has('ALL')) {
      await this.subscribe(['BACKGROUND_JOB'], { format: this.eventFormat });
    }
    if (this.filtering && !this.eventNamesPassingFilters.has('BACKGROUND_JOB')) {
      await this.filter('Event-Name', 'BACKGROUND_JOB');
    }
  }

  private onEvent(event: EslEvent): void {
    const jobUuid = event.headers['Job-UUID'];
    if (event.name === 'BACKGROUND_JOB' && jobUuid) {
      const command = this.jobs.commandOf(jobUuid);
      if (command) this.jobs.settle(jobUuid, classifyApiReply(command, event.body ?? ''));
    }
    this.emit('event', event);
  }
}

import { backoffDelayMs, type BackoffPolicy } from './backoff';
import { requireSingleLine } from './command-text';
import {
  EslClient,
  type BackgroundJobOptions,
  type CommandOptions,
  type EslConnectOptions,
  type SubscribeOptions,
} from './esl-client';
import { EslConnectionError, EslTimeoutError } from './errors';
import type { EslEvent } from './esl-event';
import { systemTimers, type Timers } from './timers';
import { TypedEmitter } from './typed-emitter';

export interface ReconnectingEslClientOptions extends Omit<EslConnectOptions, 'signal'> {
  readonly backoff?: BackoffPolicy;
  /** Source of jitter, in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

export interface RetryNotice {
  /** Failed attempts in a row, including this one. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: Error;
}

type ReconnectingEvents = {
  /** The connection is up and every subscription and filter has been (re-)applied. */
  connected: [];
  /** An established connection was lost; reconnection is under way. */
  disconnected: [reason: EslConnectionError];
  /** A connection attempt failed; the next one starts after `delayMs`. */
  retrying: [notice: RetryNotice];
  event: [event: EslEvent];
};

/** A command re-run on every new connection before it is reported connected (subscriptions, filters). */
type SessionSetup = (client: EslClient) => Promise<void>;

/**
 * A long-lived inbound ESL connection that reconnects by itself, with exponential backoff and jitter, and
 * re-applies subscriptions and filters (in the order they were made) on each new connection. It retries
 * forever, including after authentication failures (a password may be fixed on the server), until close().
 *
 * Commands never wait for a reconnection: while disconnected, api()/bgapi() fail at once with
 * EslConnectionError, so callers decide whether to retry.
 */
export class ReconnectingEslClient extends TypedEmitter<ReconnectingEvents> {
  private readonly setup: SessionSetup[] = [];
  private current?: EslClient;
  private failedAttempts = 0;
  private retryTimer?: NodeJS.Timeout;
  private attemptInFlight?: Promise<void>;
  private readonly abortAttempt = new AbortController();
  private stopped = false;

  private constructor(private readonly options: ReconnectingEslClientOptions) {
    super();
  }

  /** Starts connecting in the background; listen for `connected`. */
  static start(options: ReconnectingEslClientOptions): ReconnectingEslClient {
    requireSingleLine(options.password, 'ESL password');
    const client = new ReconnectingEslClient(options);
    client.connectNow();
    return client;
  }

  get isConnected(): boolean {
    return this.current !== undefined;
  }

  api(command: string, options?: CommandOptions): Promise<string> {
    return this.connectedClient(`api ${command}`).api(command, options);
  }

  bgapi(command: string, options?: BackgroundJobOptions): Promise<string> {
    return this.connectedClient(`bgapi ${command}`).bgapi(command, options);
  }

  /**
   * Registers a subscription for the life of this client. Resolves once applied to the current connection,
   * or at once while disconnected (it is applied on reconnection). If FreeSWITCH rejects it, it is
   * unregistered and the promise rejects.
   */
  subscribe(eventNames: readonly string[], options?: SubscribeOptions): Promise<void> {
    return this.register((client) => client.subscribe(eventNames, options));
  }

  /** Registers a filter for the life of this client; same contract as subscribe(). */
  filter(header: string, value: string): Promise<void> {
    return this.register((client) => client.filter(header, value));
  }

  /** Stops reconnecting and closes the current connection (an attempt in progress is aborted). */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) this.timers.clearTimeout(this.retryTimer);
    this.abortAttempt.abort();
    await this.attemptInFlight;
    const client = this.current;
    this.current = undefined;
    await client?.close();
  }

  private get timers(): Timers {
    return this.options.timers ?? systemTimers;
  }

  private get peer(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  private connectedClient(command: string): Pick<EslClient, 'api' | 'bgapi'> {
    if (this.current) return this.current;
    const error = new EslConnectionError(this.peer, 'is not established (reconnecting)', command);
    const fail = (): Promise<never> => Promise.reject(error);
    return { api: fail, bgapi: fail };
  }

  private async register(step: SessionSetup): Promise<void> {
    this.setup.push(step);
    const client = this.current;
    if (!client) return;
    try {
      await step(client);
    } catch (error) {
      // Lost connection: the step stays registered and runs again on the next connection.
      if (error instanceof EslConnectionError || error instanceof EslTimeoutError) return;
      this.setup.splice(this.setup.indexOf(step), 1);
      throw error;
    }
  }

  private connectNow(): void {
    this.retryTimer = undefined;
    if (this.stopped) return;
    this.attemptInFlight = this.attempt();
  }

  private async attempt(): Promise<void> {
    let client: EslClient | undefined;
    try {
      const connected = await EslClient.connect({ ...this.options, signal: this.abortAttempt.signal });
      client = connected;
      connected.on('event', (event) => this.emit('event', event));
      connected.once('close', (reason) => this.onClientClosed(connected, reason));
      // Index loop: steps registered while this runs are applied too.
      for (let index = 0; index < this.setup.length && !this.stopped; index++) await this.setup[index](connected);
    } catch (error) {
      await client?.close();
      this.retryAfterFailure(error as Error);
      return;
    }
    if (this.stopped) {
      await client.close();
      return;
    }
    this.current = client;
    this.failedAttempts = 0;
    this.emit('connected');
  }

  private onClientClosed(client: EslClient, reason: EslConnectionError): void {
    if (client !== this.current) return;
    this.current = undefined;
    this.emit('disconnected', reason);
    if (!this.stopped) this.scheduleAttempt();
  }

  private retryAfterFailure(error: Error): void {
    if (this.stopped) return;
    this.failedAttempts += 1;
    const delayMs = this.scheduleAttempt();
    this.emit('retrying', { attempt: this.failedAttempts, delayMs, error });
  }

  /** Even the first reconnection after a drop waits a (short, jittered) delay, so a flapping server is not hammered. */
  private scheduleAttempt(): number {
    const delayMs = backoffDelayMs(this.failedAttempts, this.options.backoff ?? {}, this.options.random ?? Math.random);
    this.retryTimer = this.timers.setTimeout(() => this.connectNow(), delayMs);
    return delayMs;
  }
}

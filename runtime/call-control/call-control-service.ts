import { OutboundEslServer, type OutboundCall, type Timers } from '../esl';
import { settlesWithin, systemTimers } from '../esl/timers';
import { ListenError } from '../net/listen';
import { ActiveCalls } from './active-calls';
import { CallControlMetrics } from './call-control-metrics';
import { EmfPublisher } from '../metrics/emf-publisher';
import type { CallFlow } from './call-flow';
import { ControlledCall } from './controlled-call';
import { createDefaultCallFlow } from './default-call-flow';
import { drawCallFault, type CallFaults } from './call-faults';
import { errorMessage, jsonLinesLogger, type Logger, withFields } from '../shared/logger';
import type { ServiceStatus } from './service-status';
import { StatusHttpServer } from './status-http-server';

/**
 * How long FreeSWITCH keeps a call's socket after the hangup, so the hangup event (and its cause) always arrives;
 * the socket is closed as soon as it does. Bounded: a socket that never sees it still frees the session.
 */
export const CALL_LINGER_SECONDS = 30;

/** Under ECS's 120 s stopTimeout, so the drain ends before ECS kills the task. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 110_000;

/**
 * The outbound ESL server's own wait for calls must outlast ours: at our deadline we detach the remaining calls
 * ourselves, so we can count them; the server then only closes what is left.
 */
const ESL_SERVER_WAIT_MARGIN_MS = 1_000;

export interface ListenAddress {
  readonly host: string;
  /** 0 picks a free port (see the ports `start` returns). */
  readonly port: number;
}

export interface CallControlServiceOptions {
  /** The call-control group this instance belongs to (reported by /health and in every log line). */
  readonly group: string;
  readonly version: string;
  /** Where the media servers' dialplan `socket` application connects. */
  readonly eslListen: ListenAddress;
  /** Where /health and /calls are served. */
  readonly httpListen: ListenAddress;
  /** @default the default flow: answer, bridge to `vp_bridge_target` or {@link bridgeTarget}, else park */
  readonly flow?: CallFlow;
  /** Dial string the default flow bridges calls without `vp_bridge_target` to. @default none */
  readonly bridgeTarget?: string;
  /** How long a graceful shutdown waits for calls to end before detaching them (default 110 000 ms). */
  readonly shutdownGraceMs?: number;
  /** Default: JSON lines on stdout. */
  readonly logger?: Logger;
  /** Timers for the shutdown grace period, so tests can run a 110 s grace in milliseconds. */
  readonly timers?: Timers;
  /** Milliseconds clock for call durations (default Date.now). */
  readonly now?: () => number;
  /** How often the metrics are written as a CloudWatch EMF line (default 60 000 ms). */
  readonly metricsIntervalMs?: number;
  /** Receives each EMF line (default: stdout, which the task's log driver ships to CloudWatch Logs). */
  readonly writeMetrics?: (line: string) => void;
  /** Timers of the metrics interval (default: the system's, not holding the process open). */
  readonly metricsTimers?: Timers;
  /** Fail a share of the calls on purpose (canary trials and demos). @default none: every call runs normally */
  readonly faults?: CallFaults;
  /** Draws which calls fail, in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

export const DEFAULT_METRICS_INTERVAL_MS = 60_000;

export interface BoundPorts {
  readonly eslPort: number;
  readonly httpPort: number;
}

export interface ShutdownSummary {
  /** Calls that ended while the service drained. */
  readonly drained: number;
  /** Calls still up when the grace period ran out (or `stop` cut it short), handed back to FreeSWITCH. */
  readonly detachedAtDeadline: number;
}

interface Listeners {
  readonly esl: OutboundEslServer;
  readonly http: StatusHttpServer;
  readonly metrics: EmfPublisher;
}

type State = 'created' | 'starting' | 'running' | 'draining' | 'stopped';

/** A call-control group member: takes calls over outbound ESL, reports health over HTTP, drains on shutdown. */
export class CallControlService {
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly calls = new ActiveCalls();
  private readonly metrics: CallControlMetrics;
  private readonly flow: CallFlow;
  private readonly drainCutShort: Promise<void>;
  private cutDrainShort!: () => void;
  private state: State = 'created';
  private listeners?: Listeners;
  private starting?: Promise<BoundPorts>;
  private shutdownResult?: Promise<ShutdownSummary>;

  constructor(private readonly options: CallControlServiceOptions) {
    this.log = withFields(options.logger ?? jsonLinesLogger(), { group: options.group, version: options.version });
    this.timers = options.timers ?? systemTimers;
    this.flow = options.flow ?? createDefaultCallFlow({ bridgeTarget: options.bridgeTarget });
    this.metrics = new CallControlMetrics(options.group, () => this.calls.size);
    this.drainCutShort = new Promise((resolve) => (this.cutDrainShort = resolve));
  }

  /** Binds both listeners; resolves with the bound ports. A service starts once. */
  start(): Promise<BoundPorts> {
    if (this.starting !== undefined) return Promise.reject(new Error('the call-control service was already started'));
    this.starting = this.bind().catch((error: unknown) => {
      this.state = 'stopped';
      throw error;
    });
    return this.starting;
  }

  status(): ServiceStatus {
    return {
      group: this.options.group,
      version: this.options.version,
      acceptingCalls: this.state === 'running',
      activeCalls: this.calls.size,
    };
  }

  /**
   * Graceful shutdown: stops accepting connections at once (the media server's failover list moves on), keeps
   * serving the calls in progress until they end or the grace period runs out, then detaches what is left (the
   * calls stay up in FreeSWITCH and its dialplan re-homes them) and closes. Calling it again returns the same result.
   */
  shutdown(): Promise<ShutdownSummary> {
    this.shutdownResult ??= this.drainAndClose();
    return this.shutdownResult;
  }

  /** Closes now: detaches every call in progress without waiting (never hangs up). */
  async stop(): Promise<void> {
    this.cutDrainShort();
    await this.shutdown();
  }

  private get graceMs(): number {
    return this.options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  }

  private accept(call: OutboundCall): void {
    const fault = drawCallFault(this.options.faults, this.options.random ?? Math.random);
    if (fault?.mode === 'refuse') {
      this.log.warn('refusing the call (fault injection)', { uuid: call.uuid });
      void call.detach();
      return;
    }
    const controlled = new ControlledCall(call, {
      flow: fault === undefined ? this.flow : async (context) => context.hangup(fault.cause),
      logger: this.log,
      now: this.options.now ?? Date.now,
    });
    this.metrics.callsStarted.add();
    const done = controlled.run();
    this.calls.track(controlled, done);
    void done.then((detachReason) => {
      this.metrics.finished(detachReason);
      if (this.state === 'draining') this.log.info('draining', { activeCalls: this.calls.size });
    });
  }

  private async bind(): Promise<BoundPorts> {
    this.state = 'starting';
    const { host, port } = this.options.eslListen;
    const esl = await OutboundEslServer.listen({ host, port, lingerSeconds: CALL_LINGER_SECONDS, onCall: (call) => this.accept(call) }).catch((error: unknown) => {
      throw new ListenError('outbound ESL', host, port, error);
    });
    esl.on('callError', (error) => this.log.warn('call setup failed', { error: errorMessage(error) }));
    const http = await StatusHttpServer.listen({
      ...this.options.httpListen,
      status: () => this.status(),
      metrics: () => this.metrics.registry.prometheus(),
      onError: (error) => this.log.error('status HTTP server error', { error: errorMessage(error) }),
    }).catch(async (error: unknown) => {
      await esl.close();
      throw error;
    });
    const metrics = new EmfPublisher({
      registry: this.metrics.registry,
      write: this.options.writeMetrics ?? ((line) => process.stdout.write(line)),
      intervalMs: this.options.metricsIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS,
      timers: this.options.metricsTimers,
      now: this.options.now ?? Date.now,
    });
    this.listeners = { esl, http, metrics };
    this.state = 'running';
    const ports = { eslPort: esl.port, httpPort: http.port };
    this.log.info('call control started', { ...ports, shutdownGraceMs: this.graceMs });
    if (this.options.faults !== undefined) this.log.warn('fault injection is on: failing a share of calls', { ...this.options.faults });
    return ports;
  }

  private async drainAndClose(): Promise<ShutdownSummary> {
    if (this.state === 'starting') await this.starting?.catch(() => undefined);
    const listeners = this.listeners;
    if (listeners === undefined) {
      this.state = 'stopped';
      return { drained: 0, detachedAtDeadline: 0 };
    }
    this.state = 'draining';
    const eslClosed = listeners.esl.close({ waitForCallsMs: this.graceMs + ESL_SERVER_WAIT_MARGIN_MS });
    const finishedBefore = this.calls.finished;
    this.log.info('shutdown started, no longer accepting calls', { activeCalls: this.calls.size, graceMs: this.graceMs });

    await settlesWithin(Promise.race([this.calls.whenEmpty(), this.drainCutShort]), this.graceMs, this.timers);
    const remaining = this.calls.list();
    const summary = { drained: this.calls.finished - finishedBefore, detachedAtDeadline: remaining.length };
    if (remaining.length > 0) this.log.warn('detaching the calls still up', { activeCalls: remaining.length });
    await Promise.all(remaining.map((call) => call.detach('shutdown-deadline')));

    await eslClosed;
    await listeners.http.close();
    listeners.metrics.stop();
    this.state = 'stopped';
    this.log.info('shutdown complete', { ...summary });
    return summary;
  }
}

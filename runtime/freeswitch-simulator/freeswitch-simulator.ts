import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { CallOutcome, CallRequest, SimulatedCore } from './simulated-core';
import { Clock, systemClock } from './clock';
import { CoreDb } from './core-db';
import { SHUTDOWN_MESSAGE } from './esl-frames';
import { InboundEslServer } from './inbound-esl-server';
import { Scheduler } from './scheduler';

export type { CallOutcome, CallRequest, ExecutedApplication } from './simulated-core';
export type { Clock } from './clock';

export interface FreeSwitchSimulatorOptions {
  /** Event-socket password (default ClueCon). */
  readonly password?: string;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Event-socket port (default 0: ephemeral; a restart keeps the port it got). */
  readonly port?: number;
  /** JSON file backing the core db; it survives restarts. Without it the db lives in memory (still across restarts). */
  readonly dbFile?: string;
  /** Dialplan XML; ignored when `dialplanFile` is given. */
  readonly dialplanXml?: string;
  /** Dialplan file, read at start and by `reloadxml`. */
  readonly dialplanFile?: string;
  /** Allowed client address prefixes (e.g. ["127.0.0.1", "10."]); others get text/rude-rejection. */
  readonly acl?: readonly string[];
  /** How long a `socket` connect to an unreachable target stalls before it fails (default 3000 ms). */
  readonly connectTimeoutMs?: number;
  /** Deadline for a connection's first command (default 25 000 ms, as in FreeSWITCH). */
  readonly commandTimeoutMs?: number;
  readonly hostname?: string;
  /** Simulated length of `playback` (default 500 ms). */
  readonly playbackMs?: number;
  /** HEARTBEAT interval (default 0: none). */
  readonly heartbeatIntervalMs?: number;
  /** Time source; inject a fake clock to run long calls in virtual time. */
  readonly clock?: Clock;
  /**
   * What mod_expr's `randomize` stirs into its seed, clock() + time(NULL) in FreeSWITCH (so the call-control dialplan's
   * draws). Inject a fixed sequence for reproducible draws. @default this process's CPU microseconds plus epoch seconds
   */
  readonly exprClockTicks?: () => number;
}

export interface CallHandle {
  readonly uuid: string;
  readonly outcome: Promise<CallOutcome>;
}

export interface CallBatchRequest extends Omit<CallRequest, 'durationMs'> {
  readonly count: number;
  readonly ratePerSecond: number;
  /** A fixed duration, or a function drawing one per call. */
  readonly durationMs?: number | (() => number);
}

export interface CallBatch {
  /** Grows as calls are placed. */
  readonly handles: readonly CallHandle[];
  /** Settles when every call has been placed (or the batch was cancelled or the switch stopped). */
  readonly placed: Promise<readonly CallHandle[]>;
  outcomes(): Promise<CallOutcome[]>;
  /** Stops placing further calls. */
  cancel(): void;
}

export interface ChannelSnapshot {
  readonly uuid: string;
  readonly direction: 'inbound' | 'outbound';
  readonly name: string;
  readonly state: string;
  readonly callState: string;
  readonly answered: boolean;
  readonly destination: string;
  readonly callerIdNumber: string;
  readonly context: string;
  readonly application: string;
  readonly applicationData: string;
  readonly variables: Readonly<Record<string, string>>;
}

export interface SimulatorStats {
  readonly activeChannels: number;
  /** Calls, not legs: a bridged pair counts once. */
  readonly activeCalls: number;
  readonly eslConnections: number;
  readonly callsPlaced: number;
  readonly callsCompleted: number;
  readonly callsRejected: number;
  readonly hangupCauses: Readonly<Record<string, number>>;
}

const EMPTY_DIALPLAN = '<include><context name="default"></context></include>';

/**
 * A FreeSWITCH stand-in for tests, benchmarks and the demo: an inbound event socket, a core with db,
 * hash, limits and the API, and a call engine running XML dialplans whose `socket` application connects
 * to real call-control servers. See README.md for what is and is not simulated.
 */
export class FreeSwitchSimulator {
  private readonly scheduler: Scheduler;
  private readonly unreachable = new Set<string>();
  private readonly activeBatches = new Set<() => void>();
  private readonly hangupCauses = new Map<string, number>();
  private callsPlaced = 0;
  private callsCompleted = 0;
  private callsRejected = 0;
  private dialplanXml: string;
  private memoryDb: CoreDb | undefined;
  private core: SimulatedCore | undefined;
  private server: InboundEslServer | undefined;
  private port: number;

  constructor(private readonly options: FreeSwitchSimulatorOptions = {}) {
    this.scheduler = new Scheduler(options.clock ?? systemClock);
    this.dialplanXml = options.dialplanXml ?? EMPTY_DIALPLAN;
    this.port = options.port ?? 0;
  }

  get eslPort(): number {
    return this.port;
  }

  get isRunning(): boolean {
    return this.core !== undefined;
  }

  async start(): Promise<{ eslPort: number }> {
    if (this.core !== undefined) return { eslPort: this.port };
    if (this.options.dialplanFile !== undefined) this.dialplanXml = readFileSync(this.options.dialplanFile, 'utf8');
    const core = new SimulatedCore(
      {
        password: this.options.password ?? 'ClueCon',
        hostname: this.options.hostname ?? osHostname(),
        acl: this.options.acl,
        commandTimeoutMs: this.options.commandTimeoutMs ?? 25_000,
        connectTimeoutMs: this.options.connectTimeoutMs ?? 3000,
        playbackMs: this.options.playbackMs ?? 500,
        heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 0,
        dialplanFile: this.options.dialplanFile,
        unreachable: this.unreachable,
        exprClockTicks: this.options.exprClockTicks,
      },
      this.openDb(),
      this.scheduler,
      this.dialplanXml,
      {
        callPlaced: () => {
          this.callsPlaced++;
        },
        callFinished: (outcome) => this.record(outcome),
        shutdownRequested: () => {
          void this.stop();
        },
      }
    );
    const server = new InboundEslServer(core);
    this.port = await server.listen(this.options.host ?? '127.0.0.1', this.port);
    this.core = core;
    this.server = server;
    return { eslPort: this.port };
  }

  /** Says "The system is being shut down." to every listener, drops all calls, closes the socket. */
  async stop(): Promise<void> {
    const core = this.core;
    const server = this.server;
    if (core === undefined || server === undefined) return;
    this.core = undefined;
    this.server = undefined;
    for (const cancel of [...this.activeBatches]) cancel();
    core.shutdown(SHUTDOWN_MESSAGE);
    await server.close();
    // Let the dropped calls report, so their outcomes have settled when stop() returns.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Like a FreeSWITCH restart: same port, channels, globals and hash gone, core db kept. */
  async restart(): Promise<{ eslPort: number }> {
    await this.stop();
    return this.start();
  }

  placeCall(request: CallRequest): CallHandle {
    return this.runningCore().placeInboundCall(request);
  }

  /** Places `count` calls at `ratePerSecond`, paced by one timer (late ticks catch up). */
  placeCalls(request: CallBatchRequest): CallBatch {
    const { count, ratePerSecond, durationMs, ...call } = request;
    if (!(ratePerSecond > 0)) throw new Error('ratePerSecond must be positive');
    const handles: CallHandle[] = [];
    const intervalMs = 1000 / ratePerSecond;
    const startedAt = this.scheduler.now();
    let cancelTick: (() => void) | undefined;
    let finish: () => void = () => undefined;
    const placed = new Promise<readonly CallHandle[]>((resolve) => {
      finish = () => {
        cancelTick?.();
        this.activeBatches.delete(finish);
        resolve(handles);
      };
    });
    const tick = (): void => {
      cancelTick = undefined;
      const due = Math.min(count, Math.floor((this.scheduler.now() - startedAt) / intervalMs) + 1);
      while (handles.length < due && this.core !== undefined) {
        handles.push(
          this.placeCall({ ...call, durationMs: typeof durationMs === 'function' ? durationMs() : durationMs })
        );
      }
      if (handles.length >= count || this.core === undefined) {
        finish();
        return;
      }
      const nextDueAt = startedAt + handles.length * intervalMs;
      cancelTick = this.scheduler.schedule(tick, Math.max(1, nextDueAt - this.scheduler.now()));
    };
    this.activeBatches.add(finish);
    tick();
    return {
      handles,
      placed,
      outcomes: () => placed.then((all) => Promise.all(all.map((handle) => handle.outcome))),
      cancel: () => finish(),
    };
  }

  /** Hangs a channel up like `uuid_kill`; false when there is no such channel. */
  killCall(uuid: string, cause = 'NORMAL_CLEARING'): boolean {
    const channel = this.runningCore().channels.get(uuid);
    if (channel === undefined || !channel.isUp) return false;
    channel.hangup(cause);
    return true;
  }

  /** Makes `host:port` drop SYNs: `socket` connects to it stall for connectTimeoutMs, then fail. */
  setUnreachable(hostPort: string, unreachable: boolean): void {
    if (unreachable) this.unreachable.add(hostPort);
    else this.unreachable.delete(hostPort);
  }

  /** Replaces the dialplan now (throws on malformed XML); restarts keep it unless a dialplanFile is set. */
  loadDialplan(xml: string): void {
    this.core?.loadDialplan(xml);
    this.dialplanXml = xml;
  }

  /** Runs an API command in-process and returns the body `api` would (e.g. "-ERR no reply\n"). */
  api(command: string): string {
    const core = this.runningCore();
    const space = command.indexOf(' ');
    const name = space < 0 ? command : command.slice(0, space);
    const output = core.apiOutput(name, core.expandGlobally(space < 0 ? '' : command.slice(space + 1)));
    if (output === undefined) return `-ERR ${name} Command not found!\n`;
    return output === '' ? '-ERR no reply\n' : output;
  }

  channels(): ChannelSnapshot[] {
    const core = this.core;
    if (core === undefined) return [];
    return [...core.channels.values()].map((channel) => ({
      uuid: channel.uuid,
      direction: channel.direction,
      name: channel.name,
      state: channel.state,
      callState: channel.callState,
      answered: channel.isAnswered,
      destination: channel.profile.destinationNumber,
      callerIdNumber: channel.profile.callerIdNumber,
      context: channel.profile.context,
      application: channel.currentApplication,
      applicationData: channel.currentApplicationData,
      variables: Object.fromEntries(channel.variables),
    }));
  }

  stats(): SimulatorStats {
    const channels = this.core === undefined ? [] : [...this.core.channels.values()];
    return {
      activeChannels: channels.length,
      activeCalls: channels.filter((channel) => channel.callUuid === channel.uuid).length,
      eslConnections: this.core?.connections.size ?? 0,
      callsPlaced: this.callsPlaced,
      callsCompleted: this.callsCompleted,
      callsRejected: this.callsRejected,
      hangupCauses: Object.fromEntries(this.hangupCauses),
    };
  }

  /** Lines logged by the dialplan (`log`) and the core (invalid applications, socket errors...). */
  logs(): readonly string[] {
    return this.core?.logLines ?? [];
  }

  private runningCore(): SimulatedCore {
    if (this.core === undefined) throw new Error('the FreeSWITCH simulator is not running');
    return this.core;
  }

  private openDb(): CoreDb {
    if (this.options.dbFile !== undefined) return new CoreDb(this.options.dbFile);
    this.memoryDb ??= new CoreDb();
    return this.memoryDb;
  }

  private record(outcome: CallOutcome): void {
    if (outcome.rejected) this.callsRejected++;
    else this.callsCompleted++;
    this.hangupCauses.set(outcome.hangupCause, (this.hangupCauses.get(outcome.hangupCause) ?? 0) + 1);
  }
}

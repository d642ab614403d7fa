import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { API_COMMANDS } from './api-commands';
import { CallSession } from './call-session';
import { CallerProfile, Channel, ChannelEvents } from './channel';
import { addChannelData } from './channel-event-data';
import { CoreDb } from './core-db';
import { DialplanDocument, parseDialplanXml } from './dialplan-document';
import type { EslConnection } from './esl-connection';
import { EventBus } from './event-bus';
import { ExpressionEvaluator } from './expr-function';
import { FsEvent } from './fs-event';
import { localTimestamp } from './fs-time';
import { HashStore } from './hash-store';
import { LimitCounters } from './limit-counters';
import { Scheduler } from './scheduler';
import { SIMULATED_VERSION } from './system-api-commands';
import { VariableScope, expandVariables } from './variable-expander';

export interface CoreSettings {
  readonly password: string;
  readonly hostname: string;
  /** Client address prefixes allowed on the inbound socket; undefined allows everyone. */
  readonly acl: readonly string[] | undefined;
  /** Deadline for the first command on a new connection (FreeSWITCH: 25 s). */
  readonly commandTimeoutMs: number;
  /** How long a `socket` connect attempt to an unreachable target stalls before failing. */
  readonly connectTimeoutMs: number;
  /** Simulated length of a `playback` (unless the file is `silence_stream://MS`). */
  readonly playbackMs: number;
  /** HEARTBEAT event interval; 0 disables it. */
  readonly heartbeatIntervalMs: number;
  /** `reloadxml` re-reads the dialplan from here when set. */
  readonly dialplanFile: string | undefined;
  /** `host:port` targets that drop SYNs (shared with the simulator so tests can change it). */
  readonly unreachable: ReadonlySet<string>;
  /** What mod_expr's `randomize` reads as clock() + time(NULL); undefined reads the process's own. */
  readonly exprClockTicks: (() => number) | undefined;
}

export interface CallRequest {
  readonly destination: string;
  readonly callerIdNumber?: string;
  readonly callerIdName?: string;
  readonly context?: string;
  readonly networkAddr?: string;
  /** When the caller hangs up, counted from call creation; omitted means "never by itself". */
  readonly durationMs?: number;
  readonly variables?: Readonly<Record<string, string>>;
}

export interface ExecutedApplication {
  readonly name: string;
  readonly data: string;
}

export interface CallOutcome {
  readonly uuid: string;
  readonly hangupCause: string;
  readonly answered: boolean;
  /** True when the switch refused the call outright (paused or stopped): no channel existed. */
  readonly rejected: boolean;
  readonly durationMs: number;
  readonly billMs: number;
  /** The channel variables at hangup (the group tag, limit usage, timestamps...). */
  readonly variables: Readonly<Record<string, string>>;
  readonly applications: readonly ExecutedApplication[];
}

/** What the simulator wants to hear about from the core it runs. */
export interface CoreObserver {
  callPlaced(): void;
  callFinished(outcome: CallOutcome): void;
  /** `fsctl shutdown` (now, or elegant once the last call ended): the switch must stop. */
  shutdownRequested(): void;
}

type Direction = 'inbound' | 'outbound' | 'all';

const MAX_LOG_LINES = 1000;

/**
 * One run of the simulated switch, from start to stop: channels and their sessions, the event bus, core
 * db, hash, limits and globals, the dialplan, and the API. A restart builds a new core (new Core-UUID,
 * no channels, no globals) around the same persisted db.
 */
export class SimulatedCore implements ChannelEvents {
  readonly coreUuid = randomUUID();
  readonly startedAtUs: number;
  readonly bus = new EventBus();
  readonly globals = new Map<string, string>();
  readonly hash = new HashStore();
  /** mod_expr, whose random seed lives as long as the process. */
  readonly expressions: ExpressionEvaluator;
  readonly channels = new Map<string, Channel>();
  readonly sessions = new Map<string, CallSession>();
  readonly connections = new Set<EslConnection>();
  readonly pendingSockets = new Set<Socket>();
  readonly logLines: string[] = [];
  sessionsSinceStartup = 0;
  peakSessions = 0;
  private readonly limitBackends = new Map<string, LimitCounters>();
  private readonly globalScope: VariableScope;
  private readonly paused = { inbound: false, outbound: false, all: false };
  private dialplanDocument: DialplanDocument;
  private eventSequence = 0;
  private shutdownWhenIdle = false;
  private running = true;

  constructor(
    readonly settings: CoreSettings,
    readonly db: CoreDb,
    readonly scheduler: Scheduler,
    private dialplanXml: string,
    private readonly observer: CoreObserver
  ) {
    this.startedAtUs = this.nowUs();
    this.expressions = new ExpressionEvaluator(settings.exprClockTicks);
    this.dialplanDocument = parseDialplanXml(dialplanXml);
    this.globals.set('hostname', settings.hostname);
    this.globals.set('switchname', settings.hostname);
    this.globals.set('local_ip_v4', '127.0.0.1');
    this.globals.set('domain', '127.0.0.1');
    this.globalScope = {
      lookup: (name) => this.globals.get(name),
      callFunction: (name, args) => this.apiOutput(name, args),
    };
    if (settings.heartbeatIntervalMs > 0) this.scheduleHeartbeat();
  }

  get hostname(): string {
    return this.settings.hostname;
  }

  get dialplan(): DialplanDocument {
    return this.dialplanDocument;
  }

  get isRunning(): boolean {
    return this.running;
  }

  nowUs(): number {
    return this.scheduler.now() * 1000;
  }

  log(level: string, text: string): void {
    this.logLines.push(`[${level}] ${text}`);
    if (this.logLines.length > MAX_LOG_LINES) this.logLines.shift();
  }

  limitsFor(backend: string): LimitCounters {
    let counters = this.limitBackends.get(backend);
    if (counters === undefined) {
      counters = new LimitCounters();
      this.limitBackends.set(backend, counters);
    }
    return counters;
  }

  // ---- events ----

  newEvent(name: string): FsEvent {
    const nowMs = this.scheduler.now();
    return new FsEvent(name)
      .add('Event-Name', name)
      .add('Core-UUID', this.coreUuid)
      .add('FreeSWITCH-Hostname', this.hostname)
      .add('FreeSWITCH-Switchname', this.hostname)
      .add('FreeSWITCH-IPv4', '127.0.0.1')
      .add('FreeSWITCH-IPv6', '::1')
      .add('Event-Date-Local', localTimestamp(nowMs))
      .add('Event-Date-GMT', new Date(nowMs).toUTCString())
      .add('Event-Date-Timestamp', String(Math.floor(nowMs * 1000)))
      .add('Event-Sequence', String(++this.eventSequence));
  }

  /** Fires a channel event; nothing is built when no listener wants it. */
  fireChannelEvent(
    channel: Channel,
    name: string,
    before: ReadonlyArray<[string, string]> = [],
    after: ReadonlyArray<[string, string]> = []
  ): void {
    if (!this.running || !this.bus.hasInterest(name, [channel.uuid])) return;
    const event = this.newEvent(name);
    for (const [header, value] of before) event.add(header, value);
    addChannelData(event, channel);
    for (const [header, value] of after) event.add(header, value);
    this.bus.publish(event, [channel.uuid]);
  }

  fire(channel: Channel, eventName: string, before?: ReadonlyArray<[string, string]>): void {
    this.fireChannelEvent(channel, eventName, before);
  }

  /** Fires a non-channel event, also to listeners bound to `callUuids` (a job's owner, say). */
  fireEvent(name: string, decorate: (event: FsEvent) => void, callUuids: readonly string[] = []): void {
    if (!this.running || !this.bus.hasInterest(name, callUuids)) return;
    const event = this.newEvent(name);
    decorate(event);
    this.bus.publish(event, callUuids);
  }

  // ---- variables and API ----

  /** switch_channel_get_variable: the channel's variable, else its caller-profile field, else a global. */
  variableOf(channel: Channel, name: string): string | undefined {
    return channel.variables.get(name) ?? channel.profileField(name) ?? this.globals.get(name);
  }

  scopeFor(channel: Channel): VariableScope {
    return {
      lookup: (name) => this.variableOf(channel, name),
      callFunction: (name, args) => this.apiOutput(name, args),
    };
  }

  /** Expands with globals only, as API arguments are ("api expansion"). */
  expandGlobally(text: string): string {
    return expandVariables(text, this.globalScope);
  }

  /** Runs an API command: undefined when there is no such command, else its output (possibly empty). */
  apiOutput(name: string, args: string): string | undefined {
    const command = API_COMMANDS.get(name);
    return command === undefined ? undefined : command(args, this);
  }

  // ---- dialplan ----

  /** Re-reads and re-parses the dialplan; returns "Success" or the error, keeping the old one on error. */
  reloadDialplan(): string {
    try {
      const xml =
        this.settings.dialplanFile === undefined ? this.dialplanXml : readFileSync(this.settings.dialplanFile, 'utf8');
      this.dialplanDocument = parseDialplanXml(xml);
      this.dialplanXml = xml;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    this.fireEvent('RELOADXML', () => undefined);
    return 'Success';
  }

  loadDialplan(xml: string): void {
    this.dialplanDocument = parseDialplanXml(xml);
    this.dialplanXml = xml;
  }

  // ---- calls ----

  placeInboundCall(request: CallRequest): { uuid: string; outcome: Promise<CallOutcome> } {
    const uuid = randomUUID();
    this.observer.callPlaced();
    if (!this.running || this.isPaused('inbound')) {
      const outcome = rejectedOutcome(uuid);
      this.observer.callFinished(outcome);
      return { uuid, outcome: Promise.resolve(outcome) };
    }
    const callerIdNumber = request.callerIdNumber ?? '0000000000';
    const networkAddr = request.networkAddr ?? '127.0.0.1';
    const name = `sofia/internal/${callerIdNumber}@${networkAddr}`;
    const profile = newProfile(uuid, name, {
      callerIdNumber,
      callerIdName: request.callerIdName ?? callerIdNumber,
      destinationNumber: request.destination,
      context: request.context ?? 'default',
      networkAddr,
    });
    const variables = new Map<string, string>([
      ['direction', 'inbound'],
      ['uuid', uuid],
      ['session_id', String(this.sessionsSinceStartup + 1)],
      ['sip_from_user', callerIdNumber],
      ['sip_to_user', request.destination],
      ['sip_network_ip', networkAddr],
      ['sip_call_id', randomUUID()],
      ...Object.entries(request.variables ?? {}),
    ]);
    const channel = new Channel({ uuid, direction: 'inbound', name, profile, variables }, this);
    const session = new CallSession(this, channel);
    this.sessions.set(uuid, session);
    this.registerChannel(channel);
    this.fireChannelEvent(channel, 'CHANNEL_CREATE');
    session.start(request.durationMs);
    return { uuid, outcome: session.outcome };
  }

  /** The B leg a `bridge` originates; it answers at once and lives until either leg hangs up. */
  createOutboundLeg(
    aLeg: Channel,
    target: string,
    destination: string,
    variables: ReadonlyMap<string, string>
  ): Channel {
    const uuid = randomUUID();
    const profile = newProfile(uuid, target, {
      callerIdNumber: aLeg.profile.callerIdNumber,
      callerIdName: aLeg.profile.callerIdName,
      destinationNumber: destination,
      context: aLeg.profile.context,
      networkAddr: '127.0.0.1',
    });
    const legVariables = new Map<string, string>([
      ['direction', 'outbound'],
      ['uuid', uuid],
      ['session_id', String(this.sessionsSinceStartup + 1)],
      ...variables,
    ]);
    const channel = new Channel(
      { uuid, direction: 'outbound', name: target, profile, variables: legVariables, callUuid: aLeg.callUuid },
      this
    );
    channel.state = 'CS_EXECUTE';
    this.registerChannel(channel);
    this.fireChannelEvent(channel, 'CHANNEL_CREATE');
    return channel;
  }

  hangupAll(cause: string): void {
    for (const channel of [...this.channels.values()]) channel.hangup(cause);
  }

  private registerChannel(channel: Channel): void {
    this.channels.set(channel.uuid, channel);
    this.sessionsSinceStartup++;
    this.peakSessions = Math.max(this.peakSessions, this.channels.size);
    channel.onHangup(() => this.afterHangup(channel));
  }

  /** Releases every `limit` tag of a channel: at hangup, and when it is routed again by a transfer (switch_limit.c). */
  releaseLimits(channelUuid: string): void {
    for (const counters of this.limitBackends.values()) counters.releaseAll(channelUuid);
  }

  private afterHangup(channel: Channel): void {
    this.releaseLimits(channel.uuid);
    // The caller hanging up takes the bridged B leg down; the B leg hanging up ends only the bridge.
    const peer = channel.peer;
    if (peer?.isUp && channel.callUuid === channel.uuid) peer.hangup(channel.hangupCause ?? 'NORMAL_CLEARING');
    // The reporting state runs after the hangup has been fully processed, as in the state machine.
    setImmediate(() => this.report(channel));
  }

  private report(channel: Channel): void {
    setTimestampVariables(channel);
    channel.state = 'CS_REPORTING';
    this.fireChannelEvent(channel, 'CHANNEL_HANGUP_COMPLETE', [['Hangup-Cause', channel.hangupCause ?? 'NONE']]);
    channel.state = 'CS_DESTROY';
    this.fireChannelEvent(channel, 'CHANNEL_DESTROY');
    this.channels.delete(channel.uuid);
    const session = this.sessions.get(channel.uuid);
    if (session !== undefined) {
      this.sessions.delete(channel.uuid);
      this.observer.callFinished(session.finish());
    }
    if (this.shutdownWhenIdle && this.channels.size === 0) this.observer.shutdownRequested();
  }

  // ---- switch state ----

  isPaused(direction: Direction): boolean {
    return this.paused.all || (direction !== 'all' && this.paused[direction]);
  }

  setPaused(direction: Direction, paused: boolean): void {
    this.paused[direction] = paused;
  }

  isReady(): boolean {
    return this.running && !this.paused.all;
  }

  isShutdownRequested(): boolean {
    return this.shutdownWhenIdle;
  }

  /** `fsctl shutdown [cancel|elegant|asap|now]`: elegant waits for calls without refusing new ones. */
  requestShutdown(modifiers: readonly string[]): void {
    if (modifiers.includes('cancel')) {
      this.shutdownWhenIdle = false;
      return;
    }
    if (modifiers.includes('elegant') || modifiers.includes('asap')) {
      this.shutdownWhenIdle = true;
      if (modifiers.includes('asap')) this.paused.all = true;
      setImmediate(() => {
        if (this.shutdownWhenIdle && this.channels.size === 0) this.observer.shutdownRequested();
      });
      return;
    }
    setImmediate(() => this.observer.shutdownRequested());
  }

  /** Tells every listener the switch is going away, drops all calls and cancels every timer. */
  shutdown(message: string): void {
    if (!this.running) return;
    for (const connection of [...this.connections]) connection.close(message);
    this.running = false;
    for (const socket of this.pendingSockets) socket.destroy();
    this.pendingSockets.clear();
    this.hangupAll('SYSTEM_SHUTDOWN');
    this.scheduler.cancelAll();
  }

  private scheduleHeartbeat(): void {
    this.scheduler.schedule(() => {
      this.fireEvent('HEARTBEAT', (event) => {
        event
          .add('Event-Info', 'System Ready')
          .add('Up-Time', `${Math.floor((this.nowUs() - this.startedAtUs) / 1_000_000)} seconds`)
          .add('FreeSWITCH-Version', SIMULATED_VERSION)
          .add('Session-Count', String(this.channels.size))
          .add('Max-Sessions', '1000')
          .add('Session-Since-Startup', String(this.sessionsSinceStartup))
          .add('Session-Peak-Max', String(this.peakSessions))
          .add('Idle-CPU', '100.000000');
      });
      if (this.running) this.scheduleHeartbeat();
    }, this.settings.heartbeatIntervalMs);
  }
}

interface ProfileIdentity {
  readonly callerIdNumber: string;
  readonly callerIdName: string;
  readonly destinationNumber: string;
  readonly context: string;
  readonly networkAddr: string;
}

function newProfile(uuid: string, channelName: string, identity: ProfileIdentity): CallerProfile {
  return {
    username: identity.callerIdNumber,
    dialplan: 'XML',
    callerIdName: identity.callerIdName,
    callerIdNumber: identity.callerIdNumber,
    origCallerIdName: identity.callerIdName,
    origCallerIdNumber: identity.callerIdNumber,
    networkAddr: identity.networkAddr,
    ani: identity.callerIdNumber,
    aniii: '',
    rdnis: '',
    destinationNumber: identity.destinationNumber,
    source: 'mod_sofia',
    context: identity.context,
    channelName,
    uuid,
  };
}

function rejectedOutcome(uuid: string): CallOutcome {
  return {
    uuid,
    hangupCause: 'NORMAL_TEMPORARY_FAILURE',
    answered: false,
    rejected: true,
    durationMs: 0,
    billMs: 0,
    variables: {},
    applications: [],
  };
}

/** switch_channel_set_timestamps: the CDR variables set before CHANNEL_HANGUP_COMPLETE. */
function setTimestampVariables(channel: Channel): void {
  const { createdUs, answeredUs, progressUs, progressMediaUs, hangupUs } = channel.times;
  const seconds = (us: number): number => Math.floor(us / 1_000_000);
  const set = (name: string, value: number | string): void => {
    channel.variables.set(name, String(value));
  };
  const setPoint = (prefix: string, us: number): void => {
    set(`${prefix}_epoch`, seconds(us));
    set(`${prefix}_uepoch`, Math.floor(us));
    if (us > 0) set(`${prefix}_stamp`, localTimestamp(us / 1000));
  };
  const setSpan = (prefix: string, fromUs: number, toUs: number): void => {
    const valid = fromUs > 0 && toUs > 0;
    set(`${prefix}sec`, valid ? seconds(toUs) - seconds(fromUs) : 0);
    set(`${prefix}msec`, valid ? Math.floor((toUs - fromUs) / 1000) : 0);
    set(`${prefix}usec`, valid ? Math.floor(toUs - fromUs) : 0);
  };
  setPoint('start', createdUs);
  setPoint('answer', answeredUs);
  setPoint('progress', progressUs);
  setPoint('progress_media', progressMediaUs);
  setPoint('end', hangupUs);
  set('duration', seconds(hangupUs) - seconds(createdUs));
  set('mduration', Math.floor((hangupUs - createdUs) / 1000));
  set('uduration', Math.floor(hangupUs - createdUs));
  setSpan('bill', answeredUs, hangupUs);
  setSpan('progress', createdUs, progressUs);
  setSpan('answer', createdUs, answeredUs);
  setSpan('progress_media', createdUs, progressMediaUs);
  setSpan('wait', createdUs, answeredUs);
}

import type { KeyObject } from 'crypto';
import type { BackoffPolicy } from '../esl/backoff';
import type { Timers } from '../esl/timers';
import { EmfPublisher } from '../metrics/emf-publisher';
import { errorMessage, jsonLinesLogger, type Logger } from '../shared/logger';
import type { CallArchive } from './store/call-archive';
import { CallEnding } from './replication/call-ending';
import { CallEventStreams } from './api/call-event-streams';
import { CallSweeper } from './store/call-sweeper';
import { resolveLimits, type CdsNodeLimits } from './cds-limits';
import { systemClock, type CdsClock } from './clock/cds-clock';
import { CdsHttpServer } from './api/cds-http-server';
import { CdsMetrics } from './cds-metrics';
import { CursorWrites } from './store/cursor-writes';
import { EslEventCollector, type MediaServerTarget } from './collector/esl-event-collector';
import type { CdsStore } from './store/cds-store';
import { CallTimestamps } from './clock/call-timestamps';
import { HybridClock, type FencedError } from './clock/hybrid-clock';
import { LocalApi } from './api/local-api';
import { LocalToken } from './api/local-token';
import { LocalCallStore } from './store/local-call-store';
import { meteredCallArchive } from './store/metered-call-archive';
import { NetworkHealthMonitor } from './network/network-health-monitor';
import { NetworkProxy } from './network/network-proxy';
import { NonceCache } from './api/nonce-cache';
import { OwnerClockOffsets } from './clock/owner-clock-offsets';
import { OwnerReplication } from './replication/owner-replication';
import { ParticipantReplication } from './replication/participant-replication';
import { PeerApi } from './api/peer-api';
import { PeerClient } from './network/peer-client';
import { PEER_PATHS, timeReplySchema } from './network/peer-messages';
import { RegistrationMonitor } from './replication/registration-monitor';
import { TableHealth } from './store/table-health';

export interface CdsNodeTimers {
  /** "I'm alive" interval (default 30 s); a peer silent for two intervals is a possible outage. */
  readonly heartbeatMs: number;
  /** A silent peer's registrations are dropped after this (default 5 min). */
  readonly expiryMs: number;
  /** A call whose last registration went away ends after this unless someone registers again (default 30 s). */
  readonly endGraceMs: number;
}

export const DEFAULT_TIMERS: CdsNodeTimers = { heartbeatMs: 30_000, expiryMs: 300_000, endGraceMs: 30_000 };

export interface CdsNodeOptions {
  readonly site: string;
  /** Where the local API (the site's clients) listens. */
  readonly host: string;
  readonly port: number;
  /** Where the peer API (the other sites' nodes) listens. @default `host` */
  readonly peerHost?: string;
  readonly peerPort: number;
  /** The site's local API token: local clients send it as `Authorization: Bearer <token>`. */
  readonly localToken: string;
  /** Peer site id -> base URL of its CDS (every other site), or several: one per availability zone. */
  readonly peers: ReadonlyMap<string, string | readonly string[]>;
  /** This site's private key (Ed25519): it signs every request to a peer. */
  readonly privateKey: KeyObject;
  /**
   * The public key (Ed25519) of every admitted peer: a request is taken only when signed by its sender's key.
   * Every peer in `peers` needs one; a peer with a key but no URL is admitted but not called.
   */
  readonly peerPublicKeys: ReadonlyMap<string, KeyObject>;
  readonly store: CdsStore;
  readonly archive: CallArchive;
  readonly timers?: Partial<CdsNodeTimers>;
  readonly clock?: CdsClock;
  readonly random?: () => number;
  readonly logger?: Logger;
  /** Retry policy of deliveries and archive writes (default 200 ms doubling to 30 s). */
  readonly backoff?: BackoffPolicy;
  /** Peer request timeout (default 5 s). */
  readonly peerTimeoutMs?: number;
  /** Event sockets of the site's media servers, whose channel events become call data. */
  readonly mediaServers?: readonly MediaServerTarget[];
  /** How long `/health` reuses its check of the table (default 5 s). */
  readonly tableCheckCacheMs?: number;
  /** Bounds on open calls, memory and event streams (see CdsNodeLimits for each default). */
  readonly limits?: Partial<CdsNodeLimits>;
  /** How often the metrics are written as a CloudWatch EMF line (default 60 000 ms). */
  readonly metricsIntervalMs?: number;
  /** Receives each EMF line (default: stdout, which the task's log driver ships to CloudWatch Logs). */
  readonly writeMetrics?: (line: string) => void;
  /** Timers of the metrics interval (default: the system's, not holding the process open). */
  readonly metricsTimers?: Timers;
}

export const DEFAULT_METRICS_INTERVAL_MS = 60_000;

/** Largest accepted skew between a peer's request timestamp and this clock (a ±30 s wrong clock still talks). */
const PEER_CLOCK_WINDOW_MS = 120_000;
const NONCE_CAPACITY = 1_000_000;
const MAX_CALL_BYTES = 4 * 1024 * 1024;
const MAX_AHEAD_MS = 1_000;
const REGISTRATION_WAIT_MS = 2_000;
const SSE_KEEP_ALIVE_MS = 15_000;
const CURSOR_SAVE_INTERVAL_MS = 5_000;
const TABLE_CHECK_TIMEOUT_MS = 2_000;

/** The parts of a node before it starts: built in dependency order, then wired to each other. */
interface BuiltParts {
  readonly peers: readonly string[];
  readonly backoff: BackoffPolicy;
  readonly timestamps: CallTimestamps;
  readonly offsets: OwnerClockOffsets;
  readonly cursorWrites: CursorWrites;
  readonly calls: LocalCallStore;
  readonly sweeper: CallSweeper;
  readonly client: PeerClient;
  readonly proxy: NetworkProxy;
  readonly owner: OwnerReplication;
  readonly participant: ParticipantReplication;
  readonly monitor: NetworkHealthMonitor;
  readonly ending: CallEnding;
  readonly streams: CallEventStreams;
  readonly table: TableHealth;
  readonly healthCheck: DeferredHealth;
  readonly localApi: LocalApi;
  readonly peerApi: PeerApi;
  readonly metrics: CdsMetrics;
}

/** What a running node is made of. */
interface NodeParts extends BuiltParts {
  readonly server: CdsHttpServer;
  readonly peerServer: CdsHttpServer;
  readonly collector?: EslEventCollector;
  readonly metricsPublisher: EmfPublisher;
}

type HealthReply = { readonly status: 200 | 503; readonly body: Record<string, unknown> };

/** `/health` of both listeners, answered by the node once it exists. */
class DeferredHealth {
  private check: () => Promise<HealthReply> = () => Promise.resolve({ status: 503, body: { status: 'starting' } });

  use(check: () => Promise<HealthReply>): void {
    this.check = check;
  }

  status(): Promise<HealthReply> {
    return this.check();
  }
}

async function buildParts(options: CdsNodeOptions, logger: Logger): Promise<BuiltParts> {
  const { site, store } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const timers = { ...DEFAULT_TIMERS, ...options.timers };
  const backoff = options.backoff ?? { initialDelayMs: 200, maxDelayMs: 30_000 };
  const peers = [...options.peers.keys()];
  const hlc = await HybridClock.start(clock, store.clockHighWaterMark);
  const offsets = new OwnerClockOffsets(clock);
  const timestamps = new CallTimestamps({ site, hlc, offsets, maxAheadMs: MAX_AHEAD_MS });
  const cursorWrites = new CursorWrites(store, clock, CURSOR_SAVE_INTERVAL_MS, logger);
  const limits = resolveLimits(options.limits);
  const calls = new LocalCallStore({ site, store, cursorWrites, timestamps, maxCallBytes: MAX_CALL_BYTES, clock, limits, backoff, random });
  const sweeper = new CallSweeper({ calls, clock, limits, logger });
  const unkeyed = peers.filter((peer) => !options.peerPublicKeys.has(peer));
  if (unkeyed.length > 0) throw new Error(`peers ${unkeyed.join(', ')} have no public key`);
  const client = new PeerClient({
    site,
    peers: new Map([...options.peers].map(([peer, urls]) => [peer, [urls].flat()])),
    privateKey: options.privateKey,
    clock,
    // Never behind this clock: a peer whose own clock was set back since it started still takes real time.
    peerNow: (peer) => clock.now() + Math.max(0, offsets.offsetOf(peer) ?? 0),
    timeoutMs: options.peerTimeoutMs ?? 5_000,
  });
  const proxy = new NetworkProxy({ site, peers, outbox: store, client, timestamps, clock, backoff, random, logger });
  const monitor = new NetworkHealthMonitor({
    peers,
    clock,
    heartbeatMs: timers.heartbeatMs,
    suspectAfterMs: 2 * timers.heartbeatMs,
    expiryMs: timers.expiryMs,
    sendHeartbeat: async (peer) => {
      await client.post(peer, PEER_PATHS.heartbeat, { site }, timeReplySchema);
    },
    onSuspected: (peer, silentMs) => logger.warn('peer silent: possible network outage', { peer, silentMs }),
    onExpired: (peer, silentMs) => {
      logger.warn('peer silent past the expiry: dropping its registrations', { peer, silentMs });
      proxy.background(
        () => proxy.peerExpired(peer),
        (error) => logger.error('could not expire a peer', { peer, error: errorMessage(error) }),
      );
    },
    onRecovered: (peer, silentMs) => {
      logger.info('peer heard again', { peer, silentMs });
      proxy.background(
        () => proxy.peerRecovered(peer),
        (error) => logger.error('could not re-register with a peer', { peer, error: errorMessage(error) }),
      );
    },
  });
  const metrics = new CdsMetrics(site, clock, { peers: () => monitor.peerCounts(), pendingDeliveries: () => proxy.unacknowledged });
  const archive = meteredCallArchive(options.archive, { writes: metrics.archiveWrites, failures: metrics.archiveFailures });
  const participants = new RegistrationMonitor({ site, calls, cursorWrites, logger });
  const owner = new OwnerReplication({ site, calls, participants, timestamps, archive, transport: proxy, logger, onAcknowledged: (entries) => metrics.acknowledged(entries) });
  const participant = new ParticipantReplication({ site, calls, timestamps, cursorWrites, transport: proxy, clock, backoff, random, logger });
  const ending = new CallEnding({ site, calls, owner, archive, clock, endGraceMs: timers.endGraceMs, backoff, random, logger });
  const streams = new CallEventStreams(calls, { clock, keepAliveMs: SSE_KEEP_ALIVE_MS, limits, logger });
  const peerApi = new PeerApi({
    site,
    peerKeys: options.peerPublicKeys,
    clock,
    clockWindowMs: PEER_CLOCK_WINDOW_MS,
    // Nonces live in memory: a request signed before this start is refused, so none can be replayed across a restart.
    nonces: new NonceCache(PEER_CLOCK_WINDOW_MS, NONCE_CAPACITY, clock.now()),
    proxy,
    heard: (peer) => monitor.heard(peer),
  });
  const table = new TableHealth({ check: () => store.checkReachable(), clock, cacheMs: options.tableCheckCacheMs ?? 5_000, timeoutMs: TABLE_CHECK_TIMEOUT_MS });
  const healthCheck = new DeferredHealth();
  const localApi = new LocalApi({ calls, participant, streams, registrationWaitMs: REGISTRATION_WAIT_MS });
  return { peers, backoff, timestamps, offsets, cursorWrites, calls, sweeper, client, proxy, owner, participant, monitor, ending, streams, table, healthCheck, localApi, peerApi, metrics };
}

/** Connects the parts that hear of each other: peer replies feed the clock offsets and the health monitor; the proxy routes to both replication sides. */
function wireParts(parts: BuiltParts): void {
  parts.client.onReply((peer, peerTimeMs, sentAtMs, receivedAtMs) => {
    parts.offsets.record(peer, peerTimeMs, sentAtMs, receivedAtMs);
    parts.monitor.heard(peer);
  });
  parts.proxy.connect({ calls: parts.calls, owner: parts.owner, participant: parts.participant });
}

/** A Call Data Server node: the local store, the network proxy, its monitors and the HTTP APIs, started together. */
export class CdsNode {
  /**
   * Settles once another node has taken this node's table: from then on it refuses writes and `/health` answers
   * 503 `fenced`. Whoever runs the node should stop it then (`cds serve` exits non-zero).
   */
  readonly fenced: Promise<FencedError>;
  private fencedBy?: FencedError;

  private constructor(
    readonly site: string,
    private readonly parts: NodeParts,
    private readonly store: CdsStore,
    logger: Logger,
  ) {
    this.fenced = store.fenced.then((error) => {
      this.fencedBy = error;
      logger.error('fenced: a newer CDS node took over the table; refusing writes', { site, error: error.message });
      return error;
    });
  }

  /** Builds the parts (none refers to one built after it), wires them to each other, then starts them. */
  static async start(options: CdsNodeOptions): Promise<CdsNode> {
    // A bad token fails the start before anything is built, recovered or listens.
    const localToken = new LocalToken(options.localToken);
    const logger = options.logger ?? jsonLinesLogger();
    const clock = options.clock ?? systemClock;
    const parts = await buildParts(options, logger);
    wireParts(parts);
    let node: CdsNode | undefined;
    parts.healthCheck.use(() => (node ? node.checkedHealth() : Promise.resolve({ status: 503, body: { status: 'starting' } })));
    const health = () => parts.healthCheck.status();
    let server: CdsHttpServer | undefined;
    let peerServer: CdsHttpServer;
    let recovered: number;
    try {
      const openCalls = await parts.calls.recover();
      recovered = openCalls.length;
      await parts.proxy.resume(openCalls);
      parts.ending.resume(openCalls);
      server = await CdsHttpServer.listen({
        host: options.host,
        port: options.port,
        endpoint: { listener: 'local', api: parts.localApi, token: localToken, metrics: () => parts.metrics.registry.prometheus() },
        health,
        logger,
      });
      peerServer = await CdsHttpServer.listen({
        host: options.peerHost ?? options.host,
        port: options.peerPort,
        endpoint: { listener: 'peer', api: parts.peerApi, time: () => parts.timestamps.nowMs() },
        health,
        logger,
      });
    } catch (error) {
      // Its timers (keep-alives, resumed deliveries, grace periods) would keep a node that never served running.
      parts.streams.closeAll();
      await server?.close();
      await stopParts(parts, options.store);
      throw error;
    }
    parts.monitor.start();
    parts.sweeper.start();
    const mediaServers = options.mediaServers ?? [];
    const collector = mediaServers.length > 0 ? EslEventCollector.start({ site: options.site, calls: parts.calls, mediaServers, backoff: parts.backoff, logger }) : undefined;
    const metricsPublisher = new EmfPublisher({
      registry: parts.metrics.registry,
      write: options.writeMetrics ?? ((line) => process.stdout.write(line)),
      intervalMs: options.metricsIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS,
      timers: options.metricsTimers,
      now: () => clock.now(),
    });
    node = new CdsNode(options.site, { ...parts, server, peerServer, collector, metricsPublisher }, options.store, logger);
    logger.info('cds node started', { site: options.site, port: server.port, peerPort: peerServer.port, peers: parts.peers.join(','), openCalls: recovered });
    return node;
  }

  /** The local API's port. */
  get port(): number {
    return this.parts.server.port;
  }

  /** The peer API's port. */
  get peerPort(): number {
    return this.parts.peerServer.port;
  }

  /** `/health`: peers as the health monitor sees them, pending deliveries, bytes sent to peers. */
  health(): Record<string, unknown> {
    const { monitor, offsets, calls, proxy, participant, streams, client, peerApi } = this.parts;
    const peers: Record<string, unknown> = {};
    for (const peer of this.parts.peers) {
      peers[peer] = { ...monitor.status(peer), offsetMs: offsets.offsetOf(peer) ?? null };
    }
    return {
      site: this.site,
      status: 'ok',
      openCalls: calls.openCallCount,
      cachedCalls: calls.cachedCallCount,
      pendingDeliveries: proxy.pending,
      deliveriesIdle: proxy.idle,
      pendingRegistrations: participant.pendingRegistrations,
      eventStreams: streams.openStreams,
      eventStreamBufferedBytes: streams.bufferedBytes,
      droppedEventStreams: streams.droppedStreams,
      peers,
      sent: client.traffic(),
      received: peerApi.received(),
      tableWrites: this.store.entryWriteStats?.() ?? null,
    };
  }

  /** `/health` as the load balancer sees it: 503 while the node cannot reach its table, or once it is fenced. */
  async checkedHealth(): Promise<{ status: 200 | 503; body: Record<string, unknown> }> {
    if (this.fencedBy) return { status: 503, body: { ...this.health(), status: 'fenced', error: this.fencedBy.message } };
    const table = await this.parts.table.status();
    if (table.reachable) return { status: 200, body: this.health() };
    return { status: 503, body: { ...this.health(), status: 'table-unreachable', error: table.error } };
  }

  /** Nothing waiting to go to peers (for tests and benchmarks that wait for quiescence). */
  get deliveriesIdle(): boolean {
    return this.parts.proxy.idle;
  }

  /**
   * Stops taking requests, then waits for the work under way, so nothing touches storage afterwards; the metrics
   * are published once more, the last archive writes included.
   */
  async stop(): Promise<void> {
    const { collector, streams, server, peerServer, metricsPublisher } = this.parts;
    await collector?.close();
    streams.closeAll();
    await Promise.all([server.close(), peerServer.close()]);
    await stopParts(this.parts, this.store);
    metricsPublisher.stop();
  }
}

/** Stops what works behind the listener: once it has settled, nothing touches storage or peers. */
async function stopParts(parts: Pick<BuiltParts, 'monitor' | 'sweeper' | 'proxy' | 'ending' | 'calls' | 'cursorWrites' | 'client'>, store: CdsStore): Promise<void> {
  await parts.monitor.stop();
  await parts.sweeper.stop();
  await parts.proxy.stop();
  await parts.ending.stop();
  await parts.calls.idle();
  await parts.cursorWrites.close();
  await store.close();
  parts.client.close();
}

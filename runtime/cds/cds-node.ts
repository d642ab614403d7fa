import type { BackoffPolicy } from '../esl/backoff';
import { errorMessage, jsonLinesLogger, type Logger } from '../call-control/logger';
import type { CallArchive } from './call-archive';
import { CallEnding } from './call-ending';
import { CallEventStreams } from './call-event-streams';
import { systemClock, type CdsClock } from './cds-clock';
import { CdsHttpServer } from './cds-http-server';
import { DeferredWrites } from './deferred-writes';
import { EslEventCollector, type MediaServerTarget } from './esl-event-collector';
import type { CdsStore } from './cds-store';
import { HybridClock, type FencedError } from './hybrid-clock';
import { LocalApi } from './local-api';
import { LocalCallStore } from './local-call-store';
import { NetworkHealthMonitor } from './network-health-monitor';
import { NetworkProxy } from './network-proxy';
import { NonceCache } from './nonce-cache';
import { OwnerClockOffsets } from './owner-clock-offsets';
import { PeerApi } from './peer-api';
import { PeerClient } from './peer-client';
import { PEER_PATHS, timeReplySchema } from './peer-messages';
import { TableHealth } from './table-health';

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
  readonly host: string;
  readonly port: number;
  /** Peer site id -> base URL of its CDS (every other site), or several: one per availability zone. */
  readonly peers: ReadonlyMap<string, string | readonly string[]>;
  /** The shared key of the peer API. */
  readonly peerKey: Buffer;
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
}

/** Largest accepted skew between a peer's request timestamp and this clock (a ±30 s wrong clock still talks). */
const PEER_CLOCK_WINDOW_MS = 120_000;
const NONCE_CAPACITY = 1_000_000;
const PEER_BODY_LIMIT_BYTES = 8 * 1024 * 1024;
const MAX_CALL_BYTES = 4 * 1024 * 1024;
const MAX_AHEAD_MS = 1_000;
const REGISTRATION_WAIT_MS = 2_000;
const SSE_KEEP_ALIVE_MS = 15_000;
const CURSOR_SAVE_INTERVAL_MS = 5_000;
const TABLE_CHECK_TIMEOUT_MS = 2_000;

/** What a running node is made of. */
interface NodeParts {
  readonly server: CdsHttpServer;
  readonly calls: LocalCallStore;
  readonly proxy: NetworkProxy;
  readonly monitor: NetworkHealthMonitor;
  readonly ending: CallEnding;
  readonly streams: CallEventStreams;
  readonly client: PeerClient;
  readonly offsets: OwnerClockOffsets;
  readonly peers: readonly string[];
  readonly collector?: EslEventCollector;
  readonly cursorWrites: DeferredWrites;
  readonly table: TableHealth;
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
    store: CdsStore,
    logger: Logger,
  ) {
    this.fenced = store.fenced.then((error) => {
      this.fencedBy = error;
      logger.error('fenced: a newer CDS node took over the table; refusing writes', { site, error: error.message });
      return error;
    });
  }

  static async start(options: CdsNodeOptions): Promise<CdsNode> {
    const clock = options.clock ?? systemClock;
    const random = options.random ?? Math.random;
    const logger = options.logger ?? jsonLinesLogger();
    const timers = { ...DEFAULT_TIMERS, ...options.timers };
    const backoff = options.backoff ?? { initialDelayMs: 200, maxDelayMs: 30_000 };
    const peers = [...options.peers.keys()];
    const hlc = await HybridClock.start(clock, options.store.clockHighWaterMark);
    const offsets = new OwnerClockOffsets(clock);
    const cursorWrites = new DeferredWrites(clock, CURSOR_SAVE_INTERVAL_MS, logger);
    const calls = new LocalCallStore({ site: options.site, store: options.store, hlc, offsets, maxCallBytes: MAX_CALL_BYTES, maxAheadMs: MAX_AHEAD_MS, cursorWrites });
    // Its callbacks run only after start(), when client and proxy below exist.
    const monitor = new NetworkHealthMonitor({
      peers,
      clock,
      heartbeatMs: timers.heartbeatMs,
      suspectAfterMs: 2 * timers.heartbeatMs,
      expiryMs: timers.expiryMs,
      sendHeartbeat: async (peer) => {
        await client.post(peer, PEER_PATHS.heartbeat, { site: options.site }, timeReplySchema);
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
    const client = new PeerClient({
      site: options.site,
      peers: new Map([...options.peers].map(([peer, urls]) => [peer, [urls].flat()])),
      key: options.peerKey,
      clock,
      timeoutMs: options.peerTimeoutMs ?? 5_000,
      onReply: (peer, peerTimeMs, sentAtMs, receivedAtMs) => {
        offsets.record(peer, peerTimeMs, sentAtMs, receivedAtMs);
        monitor.heard(peer);
      },
    });
    const proxy = new NetworkProxy({ site: options.site, peers, calls, outbox: options.store, client, hlc, clock, backoff, random, logger });
    const ending = new CallEnding({ site: options.site, calls, proxy, archive: options.archive, clock, endGraceMs: timers.endGraceMs, backoff, random, logger });
    const streams = new CallEventStreams(calls, clock, SSE_KEEP_ALIVE_MS);
    const peerApi = new PeerApi({
      key: options.peerKey,
      peers: new Set(peers),
      clock,
      clockWindowMs: PEER_CLOCK_WINDOW_MS,
      nonces: new NonceCache(PEER_CLOCK_WINDOW_MS, NONCE_CAPACITY),
      proxy,
      bodyLimitBytes: PEER_BODY_LIMIT_BYTES,
      heard: (site) => monitor.heard(site),
    });
    let node: CdsNode | undefined;
    const table = new TableHealth({ check: () => options.store.checkReachable(), clock, cacheMs: options.tableCheckCacheMs ?? 5_000, timeoutMs: TABLE_CHECK_TIMEOUT_MS });
    const localApi = new LocalApi({ calls, proxy, streams, registrationWaitMs: REGISTRATION_WAIT_MS, health: async () => (node ? node.checkedHealth() : { status: 503, body: { status: 'starting' } }) });

    let server: CdsHttpServer;
    let recovered: number;
    try {
      const openCalls = await calls.recover();
      recovered = openCalls.length;
      await proxy.resume(openCalls);
      ending.resume(openCalls);
      server = await CdsHttpServer.listen({ host: options.host, port: options.port, localApi, peerApi, logger, peerTime: () => hlc.nowMs() });
    } catch (error) {
      // Its timers (keep-alives, resumed deliveries, grace periods) would keep a node that never served running.
      streams.closeAll();
      await stopParts({ monitor, proxy, ending, calls, cursorWrites, client });
      throw error;
    }
    monitor.start();
    const mediaServers = options.mediaServers ?? [];
    const collector = mediaServers.length > 0 ? EslEventCollector.start({ site: options.site, calls, mediaServers, backoff, logger }) : undefined;
    node = new CdsNode(options.site, { server, calls, proxy, monitor, ending, streams, client, offsets, peers, collector, cursorWrites, table }, options.store, logger);
    logger.info('cds node started', { site: options.site, port: server.port, peers: peers.join(','), openCalls: recovered });
    return node;
  }

  get port(): number {
    return this.parts.server.port;
  }

  /** `/health`: peers as the health monitor sees them, pending deliveries, bytes sent to peers. */
  health(): Record<string, unknown> {
    const { monitor, offsets, calls, proxy, streams, client } = this.parts;
    const peers: Record<string, unknown> = {};
    for (const peer of this.parts.peers) {
      peers[peer] = { ...monitor.status(peer), offsetMs: offsets.offsetOf(peer) ?? null };
    }
    return {
      site: this.site,
      status: 'ok',
      openCalls: calls.cachedCalls().filter((call) => !call.ended).length,
      pendingDeliveries: proxy.pending,
      deliveriesIdle: proxy.idle,
      eventStreams: streams.openStreams,
      peers,
      sent: client.traffic(),
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

  /** Stops taking requests, then waits for the work under way, so nothing touches storage afterwards. */
  async stop(): Promise<void> {
    const { collector, streams, server } = this.parts;
    await collector?.close();
    streams.closeAll();
    await server.close();
    await stopParts(this.parts);
  }
}

/** Stops what works behind the listener: once it has settled, nothing touches storage or peers. */
async function stopParts(parts: Pick<NodeParts, 'monitor' | 'proxy' | 'ending' | 'calls' | 'cursorWrites' | 'client'>): Promise<void> {
  await parts.monitor.stop();
  await parts.proxy.stop();
  await parts.ending.stop();
  await parts.calls.idle();
  await parts.cursorWrites.close();
  parts.client.close();
}

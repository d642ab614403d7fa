import { DynamoCallArchive } from '../../../runtime/cds/store/call-archive';
import { CdsNode, type CdsNodeOptions, type CdsNodeTimers } from '../../../runtime/cds/cds-node';
import { DynamoCdsStore } from '../../../runtime/cds/store/dynamo-cds-store';
import { FaultMesh } from './fault-mesh';
import { LocalCdsClient, TEST_LOCAL_TOKEN } from './cds-http';
import { startLocalDynamo, type LocalDynamo } from './local-dynamo';
import { memoryLogger, type LoggedEntry } from './memory-logger';
import { SkewedClock } from './test-clocks';
import { testPeerPublicKeys, testPrivateKey } from './test-identities';

export const CDS_TABLE = 'cds';
export const ARCHIVE_TABLE = 'archive';

/** Timers of the product, scaled down for tests (30 s / 5 min / 30 s in production). */
export const FAST_TIMERS: CdsNodeTimers = { heartbeatMs: 50, expiryMs: 1_500, endGraceMs: 400 };

/** One site: its own dynalite (node table and archive), a node that can be stopped and started again, its clock. */
export class ClusterSite {
  node?: CdsNode;
  readonly clock = new SkewedClock();
  readonly client = new LocalCdsClient(() => this.runningNode.port);
  readonly archive: DynamoCallArchive;
  readonly log: LoggedEntry[] = [];
  /** The EMF lines its nodes published (stdout in production). */
  readonly metricLines: string[] = [];

  constructor(
    readonly id: string,
    readonly dynamo: LocalDynamo,
    private readonly cluster: CdsCluster,
  ) {
    this.archive = new DynamoCallArchive(dynamo.client, ARCHIVE_TABLE);
  }

  get runningNode(): CdsNode {
    if (!this.node) throw new Error(`site ${this.id} is not running`);
    return this.node;
  }

  async start(): Promise<void> {
    const { logger } = memoryLogger(this.id, this.log);
    const store = new DynamoCdsStore({ client: this.dynamo.client, tableName: CDS_TABLE, clock: this.clock, retentionMs: 86_400_000, onInvalidItem: (key, problem) => logger.error('invalid item', { key, problem }) });
    this.node = await CdsNode.start({
      site: this.id,
      host: '127.0.0.1',
      port: 0,
      peerPort: 0,
      localToken: TEST_LOCAL_TOKEN,
      peers: this.cluster.mesh.peersOf(this.id),
      privateKey: testPrivateKey(this.id),
      peerPublicKeys: testPeerPublicKeys(this.cluster.mesh.peersOf(this.id).keys()),
      store,
      archive: this.archive,
      timers: this.cluster.timers,
      clock: this.clock,
      logger: { ...logger, debug: () => undefined },
      backoff: { initialDelayMs: 20, maxDelayMs: 200 },
      peerTimeoutMs: 1_000,
      writeMetrics: (line) => this.metricLines.push(line),
      ...this.cluster.extraOptions(this.id),
    });
    this.cluster.mesh.pointAt(this.id, this.node.peerPort);
  }

  async stop(): Promise<void> {
    const node = this.node;
    this.node = undefined;
    await node?.stop();
  }
}

/** Sites on loopback, each pair joined by two fault proxies (one per direction). */
export class CdsCluster {
  private readonly sites = new Map<string, ClusterSite>();

  private constructor(
    readonly timers: CdsNodeTimers,
    readonly extraOptions: (site: string) => Partial<CdsNodeOptions>,
    readonly mesh: FaultMesh,
  ) {}

  static async start(siteIds: readonly string[], timers: CdsNodeTimers = FAST_TIMERS, extraOptions: (site: string) => Partial<CdsNodeOptions> = () => ({})): Promise<CdsCluster> {
    const cluster = new CdsCluster(timers, extraOptions, await FaultMesh.start(siteIds));
    for (const id of siteIds) cluster.sites.set(id, new ClusterSite(id, await startLocalDynamo([CDS_TABLE, ARCHIVE_TABLE]), cluster));
    await Promise.all(siteIds.map((id) => cluster.site(id).start()));
    return cluster;
  }

  site(id: string): ClusterSite {
    const site = this.sites.get(id);
    if (!site) throw new Error(`no site ${id}`);
    return site;
  }

  get all(): ClusterSite[] {
    return [...this.sites.values()];
  }

  /** Cuts every link to and from the site. */
  partition(id: string): void {
    this.mesh.partition(id);
  }

  heal(id: string): void {
    this.mesh.heal(id);
  }

  async stop(): Promise<void> {
    for (const site of this.sites.values()) await site.stop();
    for (const site of this.sites.values()) await site.dynamo.close();
    await this.mesh.close();
  }
}

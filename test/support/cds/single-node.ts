import { DynamoCallArchive } from '../../../runtime/cds/store/call-archive';
import { CdsNode, type CdsNodeOptions, type CdsNodeTimers } from '../../../runtime/cds/cds-node';
import { DynamoCdsStore } from '../../../runtime/cds/store/dynamo-cds-store';
import { ARCHIVE_TABLE, CDS_TABLE, FAST_TIMERS } from './cds-cluster';
import { LocalCdsClient, TEST_LOCAL_TOKEN } from './cds-http';
import { startLocalDynamo, type LocalDynamo } from './local-dynamo';
import { memoryLogger, type LoggedEntry } from './memory-logger';
import { SkewedClock } from './test-clocks';
import { testPeerPublicKeys, testPrivateKey } from './test-identities';

/** One node on its own dynalite, with peers that may not exist (tests play them by signing requests). */
export interface SingleNode {
  readonly node: CdsNode;
  readonly client: LocalCdsClient;
  readonly dynamo: LocalDynamo;
  readonly archive: DynamoCallArchive;
  readonly log: LoggedEntry[];
  /** The EMF lines the node published (stdout in production). */
  readonly metricLines: string[];
  stop(): Promise<void>;
}

export async function startSingleNode(site: string, peers: Record<string, string> = {}, timers: Partial<CdsNodeTimers> = {}, extra: Partial<CdsNodeOptions> = {}): Promise<SingleNode> {
  const dynamo = await startLocalDynamo([CDS_TABLE, ARCHIVE_TABLE]);
  const clock = new SkewedClock();
  const { logger, entries } = memoryLogger(site);
  const archive = new DynamoCallArchive(dynamo.client, ARCHIVE_TABLE);
  const metricLines: string[] = [];
  const node = await CdsNode.start({
    site,
    host: '127.0.0.1',
    port: 0,
    peerPort: 0,
    localToken: TEST_LOCAL_TOKEN,
    peers: new Map(Object.entries(peers)),
    privateKey: testPrivateKey(site),
    peerPublicKeys: testPeerPublicKeys([...Object.keys(peers), ...(extra.peers?.keys() ?? [])]),
    store: new DynamoCdsStore({ client: dynamo.client, tableName: CDS_TABLE, clock, retentionMs: 86_400_000, onInvalidItem: () => undefined }),
    archive,
    timers: { ...FAST_TIMERS, ...timers },
    clock,
    logger: { ...logger, debug: () => undefined },
    backoff: { initialDelayMs: 20, maxDelayMs: 200 },
    peerTimeoutMs: 500,
    writeMetrics: (line) => metricLines.push(line),
    ...extra,
  });
  return {
    node,
    client: new LocalCdsClient(() => node.port),
    dynamo,
    archive,
    log: entries,
    metricLines,
    stop: async () => {
      await node.stop();
      await dynamo.close();
    },
  };
}

import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { DynamoCallArchive } from '../../../runtime/cds/store/call-archive';
import { LocalCdsClient } from './cds-http';
import { CdsProcess } from './cds-process';
import { FaultMesh } from './fault-mesh';
import { startLocalDynamo, type LocalDynamo } from './local-dynamo';
import { testPrivateKeyPem, testPublicKeyText } from './test-identities';

const ARCHIVE_TABLE = 'cds-archive';

export interface ProcessSite {
  readonly id: string;
  readonly process: CdsProcess;
  readonly client: LocalCdsClient;
  readonly archive: DynamoCallArchive;
  readonly dynamo: LocalDynamo;
}

/**
 * Sites as `cds serve` child processes, each over its own dynalite (in this process, so it outlives a
 * SIGKILLed node), joined by fault proxies like CdsCluster.
 */
export class ProcessCluster {
  private readonly sites = new Map<string, ProcessSite>();

  private constructor(private readonly mesh: FaultMesh) {}

  /** `options.cli`: a compiled `runtime/cli.js` to run (as the image does) instead of the sources. */
  static async start(siteIds: readonly string[], timers: { heartbeatMs: number; expiryMs: number; endGraceMs: number }, options: { cli?: string } = {}): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(await FaultMesh.start(siteIds));
    const keyDir = mkdtempSync(path.join(tmpdir(), 'cds-key-'));
    for (const id of siteIds) {
      const dynamo = await startLocalDynamo([`cds-${id}`, ARCHIVE_TABLE]);
      const keyFile = path.join(keyDir, `${id}.pem`);
      writeFileSync(keyFile, testPrivateKeyPem(id), { mode: 0o600 });
      const peers = [...cluster.mesh.peersOf(id)].flatMap(([other, url]) => ['--peer', `${other}=${url}`, '--peer-public-key', `${other}=${testPublicKeyText(other)}`]);
      const args = [
        ...['--site', id, '--listen', '127.0.0.1:0', '--peer-key-file', keyFile, '--dynamodb-endpoint', dynamo.endpoint],
        ...['--heartbeat-ms', String(timers.heartbeatMs), '--expiry-ms', String(timers.expiryMs), '--end-grace-ms', String(timers.endGraceMs)],
        ...peers,
      ];
      const child = new CdsProcess(id, () => args, options.cli === undefined ? undefined : [options.cli]);
      cluster.sites.set(id, { id, process: child, client: new LocalCdsClient(() => child.port ?? 0), archive: new DynamoCallArchive(dynamo.client, ARCHIVE_TABLE), dynamo });
    }
    await Promise.all(siteIds.map((id) => cluster.startSite(id)));
    return cluster;
  }

  site(id: string): ProcessSite {
    const site = this.sites.get(id);
    if (!site) throw new Error(`no site ${id}`);
    return site;
  }

  get all(): ProcessSite[] {
    return [...this.sites.values()];
  }

  async startSite(id: string): Promise<void> {
    const { process } = this.site(id);
    await process.start();
    this.mesh.pointAt(id, process.peerPort ?? 0);
  }

  partition(id: string): void {
    this.mesh.partition(id);
  }

  heal(id: string): void {
    this.mesh.heal(id);
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((site) => site.process.stop()));
    for (const site of this.all) await site.dynamo.close();
    await this.mesh.close();
  }
}

import * as path from 'path';
import { buildImageFilesystem } from '../support/contract/image-filesystem';
import { TEST_LOCAL_AUTHORIZATION } from '../support/cds/cds-http';
import { ProcessCluster } from '../support/cds/process-cluster';
import { signedPeerHeaders } from '../support/cds/signed-peer-request';
import { runCdsSoak, type CdsSoakReport, type SoakSite } from '../support/soak/cds-soak';
import { CDS_SOAK_RSS_BOUND_BYTES } from '../support/soak/soak-bounds';

// Three `cds serve` processes, compiled as the runtime image holds them, take valid calls and junk together for a
// bounded time. VOICEPLANE_SOAK_SECONDS makes it longer (`npm run soak:cds` prints the report).

const SITES = ['west', 'east', 'north'];
const DURATION_MS = Number(process.env.VOICEPLANE_SOAK_SECONDS ?? 40) * 1_000;

let image: ReturnType<typeof buildImageFilesystem>;
let cluster: ProcessCluster;
let report: CdsSoakReport;

beforeAll(async () => {
  image = buildImageFilesystem();
  cluster = await ProcessCluster.start(SITES, { heartbeatMs: 1_000, expiryMs: 10_000, endGraceMs: 2_000 }, { cli: path.join(image.appDir, 'dist/runtime/cli.js') });
  const sites: SoakSite[] = cluster.all.map((site) => {
    const signer = SITES.find((other) => other !== site.id)!;
    return {
      id: site.id,
      client: site.client,
      archive: site.archive,
      pid: () => site.process.pid,
      exit: () => site.process.exit,
      target: {
        site: site.id,
        localPort: site.process.port!,
        peerPort: site.process.peerPort!,
        localHeaders: TEST_LOCAL_AUTHORIZATION,
        peerSigner: { site: signer, headers: (requestPath, body) => signedPeerHeaders(signer, site.id, requestPath, body) },
      },
    };
  });
  report = await runCdsSoak({ sites, durationMs: DURATION_MS, callWorkers: 6, junkWorkers: 6, heldConnections: 30 });
  process.stdout.write(`cds soak: ${JSON.stringify(report)}\n`);
}, DURATION_MS + 300_000);

afterAll(async () => {
  await cluster?.stop();
  image?.remove();
});

describe('three CDS nodes under valid calls and junk together', () => {
  it('keep running: no node exits', () => {
    expect(report.exits).toEqual({});
  });

  it('lose no acknowledged write: every one is in the archive of its ended call', () => {
    expect(report.callsEnded).toBeGreaterThan(20);
    expect(report.lostWrites).toEqual([]);
  });

  it('serve every valid call while the junk is refused', () => {
    expect(report.validRefused).toEqual([]);
    expect(report.junkSent).toBeGreaterThan(500);
    expect(report.junkServerErrors).toBe(0);
  });

  it(`stay under ${CDS_SOAK_RSS_BOUND_BYTES / 1024 / 1024} MiB of resident memory each`, () => {
    expect(Object.keys(report.peakRssBytes).sort()).toEqual([...SITES].sort());
    expect(Math.max(...Object.values(report.peakRssBytes))).toBeLessThan(CDS_SOAK_RSS_BOUND_BYTES);
  });
});

import { get } from 'http';
import { CDS_METRICS_NAMESPACE } from '../../runtime/cds/cds-metrics';
import { DynamoCallArchive } from '../../runtime/cds/store/call-archive';
import { ensureTable } from '../../runtime/dynamodb/tables';
import { scaledTimers, type ScaledTimers } from '../esl/scaled-timers';
import { CdsCluster, FAST_TIMERS, type ClusterSite } from '../support/cds/cds-cluster';
import { cdsRequest, TEST_LOCAL_AUTHORIZATION } from '../support/cds/cds-http';
import { startSingleNode } from '../support/cds/single-node';
import { waitFor } from '../support/wait-for';

// Two sites, west owning the calls and east taking part: what a site's CDS metrics say while calls flow, while
// east is away and once it is back, on /metrics (Prometheus) and in the EMF lines CloudWatch Logs reads.

/** No peer expires during these tests: a peer away for a while is still owed what it missed. */
const TIMERS = { ...FAST_TIMERS, expiryMs: 600_000 };
/** The default 60 s interval, run 500 times faster. */
const METRIC_TIMERS_FACTOR = 0.002;

let cluster: CdsCluster;
let west: ClusterSite;
let east: ClusterSite;
const metricTimers = new Map<string, ScaledTimers>();
let counter = 0;
const newCallId = (): string => `west:metrics-${++counter}`;

beforeAll(async () => {
  cluster = await CdsCluster.start(['west', 'east'], TIMERS, (site) => {
    const timers = scaledTimers(METRIC_TIMERS_FACTOR);
    metricTimers.set(site, timers);
    return { metricsTimers: timers };
  });
  [west, east] = ['west', 'east'].map((id) => cluster.site(id));
});
afterAll(() => cluster.stop());

/** `GET /metrics` as Prometheus sends it (`headers` default to the site token). */
function scrape(port: number, headers: Record<string, string> = TEST_LOCAL_AUTHORIZATION): Promise<{ status?: number; contentType?: string; text: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode, contentType: response.headers['content-type'], text }));
    }).on('error', reject);
  });
}

/** One sample of a node's `/metrics`, e.g. `voiceplane_peers_healthy{site="west"}`. */
async function metricOf(port: number, name: string, site: string): Promise<number | undefined> {
  const { status, text } = await scrape(port);
  if (status !== 200) throw new Error(`/metrics of ${site}: ${status}`);
  const match = new RegExp(`^${name}\\{site="${site}"\\} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

const metric = (site: ClusterSite, name: string): Promise<number | undefined> => metricOf(site.runningNode.port, name, site.id);

interface EmfDocument {
  readonly _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  readonly [field: string]: unknown;
}

const emfDocuments = (site: ClusterSite): EmfDocument[] => site.metricLines.map((line) => JSON.parse(line) as EmfDocument);

async function startCallWithEastTakingPart(callId: string): Promise<void> {
  await west.client.register(callId, 'switch');
  await east.client.register(callId, 'agent');
  await waitFor(async () => (await west.client.participants(callId)).remote.includes('east'), { message: 'east to take part' });
}

describe('CDS metrics', () => {
  it('serves /metrics on the local listener to a client with the site token only, and not on the peer listener', async () => {
    const port = west.runningNode.port;
    expect(await cdsRequest(port, 'GET', '/metrics', undefined, {})).toMatchObject({ status: 401, body: { reason: 'unauthenticated' } });
    expect(await cdsRequest(port, 'GET', '/metrics', undefined, { authorization: 'Bearer not-the-site-token-0123456789abcdef' })).toMatchObject({ status: 401 });
    expect(await cdsRequest(west.runningNode.peerPort, 'GET', '/metrics', undefined, {})).toMatchObject({ status: 404 });
    expect(await cdsRequest(west.runningNode.peerPort, 'GET', '/metrics')).toMatchObject({ status: 404 });

    const { status, contentType, text } = await scrape(port);
    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toContain('# TYPE voiceplane_peers_healthy gauge\nvoiceplane_peers_healthy{site="west"} 1');
    for (const sample of [
      'voiceplane_peers_unhealthy{site="west"} 0',
      'voiceplane_pending_deliveries{site="west"} ',
      'voiceplane_archive_writes_total{site="west"} ',
      'voiceplane_archive_failures_total{site="west"} 0',
      '# TYPE voiceplane_propagation_delay histogram',
      'voiceplane_propagation_delay_bucket{site="west",le="+Inf"} ',
      'voiceplane_propagation_delay_count{site="west"} ',
    ]) {
      expect(text).toContain(sample);
    }
  });

  it('records the propagation delay of each update a participant acknowledged', async () => {
    const callId = newCallId();
    await startCallWithEastTakingPart(callId);
    const before = (await metric(west, 'voiceplane_propagation_delay_count')) ?? 0;
    await west.client.put(callId, 'answeredAt', 1234);
    await west.client.log(callId, 'answered');
    await waitFor(async () => (await east.client.call(callId))?.logs.length === 1 && (await east.client.call(callId))?.properties.answeredAt !== undefined, { message: "west's writes at east" });
    await waitFor(async () => (await metric(west, 'voiceplane_propagation_delay_count')) === before + 2, { message: 'two acknowledged entries counted' });
    // East only takes part: it acknowledges what it receives, it does not measure it.
    expect(await metric(east, 'voiceplane_propagation_delay_count')).toBe(0);
    await waitFor(() => emfDocuments(west).some((document) => typeof document.PropagationDelay === 'number'), { message: 'a propagation delay in an EMF line' });
  });

  it('reports a stopped peer as unhealthy, and healthy again once it is back; its deliveries pending meanwhile', async () => {
    const callId = newCallId();
    await startCallWithEastTakingPart(callId);
    const eastLinesBefore = east.metricLines.length;
    await east.stop();
    // The graceful stop publishes once more.
    expect(east.metricLines.length).toBe(eastLinesBefore + 1);

    await waitFor(async () => (await metric(west, 'voiceplane_peers_unhealthy')) === 1, { message: 'west to count east unhealthy' });
    expect(await metric(west, 'voiceplane_peers_healthy')).toBe(0);
    await west.client.put(callId, 'disposition', 'sale');
    await waitFor(async () => ((await metric(west, 'voiceplane_pending_deliveries')) ?? 0) >= 1, { message: 'the write to east pending' });
    await waitFor(() => emfDocuments(west).some((document) => document.PeersUnhealthy === 1 && (document.PendingDeliveries as number) >= 1), { message: 'an EMF line with east down' });

    await east.start();
    await waitFor(async () => (await metric(west, 'voiceplane_peers_unhealthy')) === 0, { message: 'west to hear east again' });
    expect(await metric(west, 'voiceplane_peers_healthy')).toBe(1);
    await waitFor(async () => (await east.client.call(callId))?.properties.disposition !== undefined, { message: 'the write missed at east' });
    await waitFor(async () => (await metric(west, 'voiceplane_pending_deliveries')) === 0, { message: 'nothing pending' });
  });

  it('holds deliveries pending while a peer is cut off, and measures their delay once it acknowledges them', async () => {
    const callId = newCallId();
    await startCallWithEastTakingPart(callId);
    cluster.partition('east');
    await west.client.put(callId, 'disposition', 'sale');
    const acceptedBy = Date.now();
    await waitFor(async () => ((await metric(west, 'voiceplane_pending_deliveries')) ?? 0) >= 1, { message: 'the write to east pending' });
    await waitFor(async () => (await metric(west, 'voiceplane_peers_unhealthy')) === 1, { message: 'west to count east unhealthy' });

    const healedFrom = Date.now();
    cluster.heal('east');
    await waitFor(async () => (await east.client.call(callId))?.properties.disposition !== undefined, { message: 'the write missed at east' });
    await waitFor(async () => (await metric(west, 'voiceplane_pending_deliveries')) === 0, { message: 'nothing pending' });
    expect(await metric(west, 'voiceplane_peers_unhealthy')).toBe(0);
    // The write waited for the link: its delay covers at least the time from its acceptance to the heal.
    const waitedMs = healedFrom - acceptedBy;
    expect(waitedMs).toBeGreaterThan(0);
    await waitFor(() => emfDocuments(west).some((document) => (document.PropagationDelay as number) >= waitedMs), { message: 'the delay of the write that waited' });
  });

  it('counts one archive write per ended call', async () => {
    const before = (await metric(west, 'voiceplane_archive_writes_total')) ?? 0;
    const callIds = [newCallId(), newCallId()];
    for (const callId of callIds) {
      await startCallWithEastTakingPart(callId);
      await west.client.put(callId, 'caller', '+15550100');
      await west.client.end(callId);
    }
    for (const callId of callIds) await waitFor(async () => (await west.archive.read(callId)) !== undefined, { message: `${callId} archived` });
    await waitFor(async () => (await east.client.call(callIds[1]))?.state === 'ended', { message: 'the end at east' });
    await waitFor(() => cluster.all.every((site) => site.runningNode.deliveriesIdle), { message: 'deliveries to finish' });
    expect(await metric(west, 'voiceplane_archive_writes_total')).toBe(before + 2);
    expect(await metric(west, 'voiceplane_archive_failures_total')).toBe(0);
    // East owns none of them: it archives nothing.
    expect(await metric(east, 'voiceplane_archive_writes_total')).toBe(0);
  });

  it('publishes valid EMF every 60 s by default: namespace, Site dimension, the metric names and units, counters as increments', async () => {
    const requestedMs = metricTimers.get('west')?.requestedMs ?? [];
    expect(requestedMs.length).toBeGreaterThan(0);
    expect(new Set(requestedMs)).toEqual(new Set([60_000]));
    await waitFor(() => west.metricLines.length >= 2, { message: 'two EMF lines from west' });
    for (const line of west.metricLines) expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
    const documents = emfDocuments(west);
    for (const document of documents) {
      const [directive] = document._aws.CloudWatchMetrics;
      expect(document._aws.CloudWatchMetrics).toHaveLength(1);
      expect(typeof document._aws.Timestamp).toBe('number');
      expect(directive.Namespace).toBe(CDS_METRICS_NAMESPACE);
      expect(directive.Dimensions).toEqual([['Site']]);
      expect(document.Site).toBe('west');
      expect(directive.Metrics).toEqual(
        expect.arrayContaining([
          { Name: 'PeersHealthy', Unit: 'Count' },
          { Name: 'PeersUnhealthy', Unit: 'Count' },
          { Name: 'PendingDeliveries', Unit: 'Count' },
          { Name: 'ArchiveWrites', Unit: 'Count' },
          { Name: 'ArchiveFailures', Unit: 'Count' },
        ]),
      );
      for (const { Name, Unit } of directive.Metrics) {
        expect(typeof document[Name]).toBe('number');
        if (Name === 'PropagationDelay') expect(Unit).toBe('Milliseconds');
      }
    }
    const published = documents.reduce((sum, document) => sum + (document.ArchiveWrites as number), 0);
    const lastTimestamp = documents[documents.length - 1]._aws.Timestamp;
    await waitFor(() => emfDocuments(west).some((document) => document._aws.Timestamp > lastTimestamp), { message: 'one more EMF line' });
    const total = emfDocuments(west).reduce((sum, document) => sum + (document.ArchiveWrites as number), 0);
    expect(total).toBeGreaterThanOrEqual(published);
    expect(total).toBe(await metric(west, 'voiceplane_archive_writes_total'));
  });

  it('counts failed archive writes, and the write once the archive takes it', async () => {
    const archiveTable = 'archive-created-late';
    const node = await startSingleNode('north', {}, {}, { archive: new DynamoCallArchive(west.dynamo.client, archiveTable) });
    try {
      await node.client.put('north:archive-1', 'caller', '+15550100');
      await node.client.end('north:archive-1');
      await waitFor(async () => ((await metricOf(node.node.port, 'voiceplane_archive_failures_total', 'north')) ?? 0) >= 1, { message: 'a failed archive write' });
      expect(await metricOf(node.node.port, 'voiceplane_archive_writes_total', 'north')).toBe(0);
      await ensureTable(west.dynamo.client, archiveTable);
      await waitFor(async () => (await metricOf(node.node.port, 'voiceplane_archive_writes_total', 'north')) === 1, { message: 'the archive write once the table exists', timeoutMs: 10_000 });
      expect(await new DynamoCallArchive(west.dynamo.client, archiveTable).read('north:archive-1')).toBeDefined();
    } finally {
      await node.stop();
    }
    // The EMF lines, the one published at the stop included, add up to the same counts.
    const documents = node.metricLines.map((line) => JSON.parse(line) as EmfDocument);
    expect(documents.every((document) => document.Site === 'north')).toBe(true);
    expect(documents.reduce((sum, document) => sum + (document.ArchiveWrites as number), 0)).toBe(1);
    expect(documents.reduce((sum, document) => sum + (document.ArchiveFailures as number), 0)).toBeGreaterThanOrEqual(1);
  });
});

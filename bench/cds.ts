/**
 * `npm run bench:cds`: a 3-site platform, one CDS node per site (`cds serve` child processes of the compiled CLI, as
 * the image runs it), each with its table in a dynalite process of its own (DynamoDB is a service apart from the node),
 * all on loopback and sharing the machine's cores; a call spans two sites (owner west, participant
 * east; north holds none of them). Prints the property updates per second the owner sustains (spread over many
 * properties, and concentrated on a few that change all the time), the CPU each process spent per update,
 * owner-to-participant propagation latency (p50/p99) at a steady rate (nodes in service, and just started), and the bytes on the sockets between nodes
 * (requests and replies, every header included) per update against replicating the whole call record to every other
 * site (the DynamoDB global tables model), per recipient and with the fan-out of each.
 */
import { createPrivateKey } from 'crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { createServer as createHttpServer } from 'http';
import { createServer, type AddressInfo } from 'net';
import { cpus, loadavg, tmpdir } from 'os';
import * as path from 'path';
import { CdsProcess } from '../test/support/cds/cds-process';
import { LocalCdsClient, TEST_LOCAL_AUTHORIZATION } from '../test/support/cds/cds-http';
import { generatePeerIdentity } from '../runtime/cds/network/peer-identity';
import { PeerClient, type PathTraffic } from '../runtime/cds/network/peer-client';
import { PEER_PATHS, updatesReplySchema } from '../runtime/cds/network/peer-messages';
import { systemClock } from '../runtime/cds/clock/cds-clock';
import { EventStreamReader } from '../test/support/cds/event-stream-reader';
import { COMPACTION_DELAY_MS } from '../runtime/cds/store/entry-journal';
import type { EntryWriteStats } from '../runtime/cds/store/cds-store';
import { PipelinedLocalClient } from './pipelined-local-client';
import { TableServerProcess } from './support/table-server-process';

/** The nodes run as deployed: the compiled CLI (under ts-node every event emitter pays for the `domain` module its REPL loads). */
const COMPILED_CLI = path.join(__dirname, '../dist/runtime/cli.js');
const SITES = ['west', 'east', 'north'] as const;
/** Sites a call's data goes to from its owner: its participants (east), against every other site for whole-record replication. */
const CALL_FAN_OUT = 1;
const WHOLE_RECORD_FAN_OUT = SITES.length - 1;
const CALLS = 40;
const PROPERTIES_PER_CALL = 10;
/** A few calls whose properties change all the time (live transcription, queue position): writes coalesce. */
const HOT_CALLS = 4;
const HOT_PROPERTIES_PER_CALL = 2;
const THROUGHPUT_SECONDS = 6;
/** Writes under way at full rate, over keep-alive connections with PIPELINE_DEPTH requests pipelined on each (see PipelinedLocalClient). */
const CONCURRENCY = 64;
/**
 * With CONCURRENCY in flight a node waits for its table part of the time (a call's writes are stored one after the
 * other); twice as many keep it busy: what it sustains then is its capacity.
 */
const SATURATING_CONCURRENCY = 2 * CONCURRENCY;
const PIPELINE_DEPTH = 8;
const LATENCY_RATE_PER_SECOND = 1_000;
const LATENCY_SECONDS = 5;
/** Connections the latency runs write over: at LATENCY_RATE_PER_SECOND mostly one request at a time is on each. */
const LATENCY_CONNECTIONS = 8;
/** Excluded from the latency figures: the first seconds of a fresh process are spent compiling and optimising code. */
const WARM_UP_SECONDS = 3;
/** Whole-record messages sent to measure one on the socket. */
const WHOLE_RECORD_SAMPLES = 50;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

async function until(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The owner's updates messages to its peers, single or batched, and their bytes on the sockets both ways (requests and replies). */
async function updatesTraffic(client: LocalCdsClient): Promise<{ messages: number; bytes: number }> {
  const sent = (await client.health()).sent as Record<string, PathTraffic | undefined>;
  const paths = [sent[PEER_PATHS.updates], sent[PEER_PATHS.updatesBatch]];
  return { messages: paths.reduce((sum, path) => sum + (path?.requests ?? 0), 0), bytes: paths.reduce((sum, path) => sum + (path?.bytes ?? 0) + (path?.bytesReceived ?? 0), 0) };
}

/** Per process (and the load generator, this one), the CPU time (ms) it has run so far. */
function cpuSnapshot(processes: ReadonlyMap<string, { readonly pid?: number }>): Record<string, number> {
  const own = process.cpuUsage();
  return { ...Object.fromEntries([...processes].map(([name, child]) => [name, cpuMsOf(child.pid)])), 'load generator': (own.user + own.system) / 1000 };
}

/** Linux reports process times in /proc in ticks of 1/100 s, whatever the kernel's own tick. */
const PROC_TICK_MS = 10;

/**
 * CPU time (ms) a process has used so far, user and system, in all its threads (the JavaScript thread, and the
 * garbage collector's and compiler's helper threads), from /proc (Linux).
 */
function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * PROC_TICK_MS;
  } catch {
    return NaN;
  }
}

/**
 * Bytes on the socket, both ways, of one whole-record message to one site: the call's record (as a local client
 * reads it) sent as a signed peer message by the nodes' own client to a sink answering as a peer does.
 */
async function wholeRecordSocketBytes(record: unknown, callId: string): Promise<number> {
  const sink = createHttpServer((incoming, response) => {
    incoming.resume();
    incoming.on('end', () => {
      const body = JSON.stringify({ time: Date.now(), ackedTs: 1 });
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const client = new PeerClient({ site: 'west', peers: new Map([['east', [url]]]), privateKey: createPrivateKey(generatePeerIdentity().privateKeyPem), clock: systemClock, timeoutMs: 5_000 });
  try {
    for (let index = 0; index < WHOLE_RECORD_SAMPLES; index++) await client.post('east', PEER_PATHS.updates, { callId, site: 'west', record }, updatesReplySchema);
    const traffic = client.traffic()[PEER_PATHS.updates];
    return ((traffic?.bytes ?? 0) + (traffic?.bytesReceived ?? 0)) / WHOLE_RECORD_SAMPLES;
  } finally {
    client.close();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
}

/** A realistic record: switch facts, CRM notes, a few log entries. */
async function seedCall(owner: LocalCdsClient, callId: string): Promise<void> {
  const facts: Record<string, unknown> = {
    caller: '+15550100',
    callee: '+15550199',
    mediaServer: 'ms-1.west',
    callControlGroup: 'blue',
    answeredAt: Date.now(),
    'crm.account': { id: 'ACME-000123', tier: 'gold', owner: 'j.doe@example.com' },
    'crm.note': 'Customer asks about the renewal of the support contract; wants a callback before Friday.',
  };
  for (const [name, value] of Object.entries(facts)) await owner.put(callId, name, value);
  for (let index = 0; index < 8; index++) await owner.log(callId, { at: Date.now(), text: `IVR step ${index}: menu option selected`, agent: 'ivr' });
}

interface SteadyRate {
  /** Milliseconds from the owner's PUT to the participant's event showing it (or a later value). */
  readonly propagation: number[];
  /** Milliseconds until the owner acknowledged the PUT. */
  readonly acknowledgement: number[];
  readonly superseded: number;
  readonly refused: number;
  readonly bytesPerUpdate: number;
  /** Per process, the share of one core it used while the updates were sent and arrived (%). */
  readonly corePercent: Record<string, number>;
}

/** The nodes the latency runs write to and watch, and the processes whose CPU they report. */
interface LatencyPlatform {
  readonly owner: LocalCdsClient;
  readonly ownerPort: number;
  readonly participantPort: number;
  readonly processes: ReadonlyMap<string, { readonly pid?: number }>;
}

/**
 * One property at a time at LATENCY_RATE_PER_SECOND, watched on the participant's event streams. A participant
 * holding a later value of the property than an update has that update (last writer wins): it counts as arrived.
 * Values start at `firstValue`, above those of an earlier run, so that they win. The writes go over a few kept-alive
 * connections of the light client (PipelinedLocalClient), mostly one at a time on each: Node's HTTP client cost the
 * load generator a third more CPU, taken from the nodes it measures.
 */
async function steadyRate({ owner, ownerPort, participantPort, processes }: LatencyPlatform, callIds: readonly string[], seconds: number, firstValue: number): Promise<SteadyRate> {
  const unconfirmed = callIds.map(() => [] as Array<{ index: number; sentAt: number }>);
  const propagation: number[] = [];
  const acknowledgement: number[] = [];
  let superseded = 0;
  let refused = 0;
  const onUpdate = (call: number, data: unknown): void => {
    const marker = (data as { properties: Record<string, { value: unknown }> }).properties.progress?.value;
    if (typeof marker !== 'number') return;
    const now = performance.now();
    const pending = unconfirmed[call];
    for (let confirmed = pending[0]; confirmed !== undefined && confirmed.index <= marker; confirmed = pending[0]) {
      pending.shift();
      propagation.push(now - confirmed.sentAt);
      if (confirmed.index < marker) superseded++;
    }
  };
  const streams = await Promise.all(
    callIds.map((callId, call) =>
      EventStreamReader.open(participantPort, callId, (event) => {
        if (event.event === 'update') onUpdate(call, event.data);
      }),
    ),
  );
  const client = await PipelinedLocalClient.open(ownerPort, LATENCY_CONNECTIONS, TEST_LOCAL_AUTHORIZATION.authorization);
  const trafficBefore = await updatesTraffic(owner);
  const total = LATENCY_RATE_PER_SECOND * seconds;
  const cpuBefore = cpuSnapshot(processes);
  const started = performance.now();
  for (let index = 0; index < total; index++) {
    const wait = started + (index * 1000) / LATENCY_RATE_PER_SECOND - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const call = index % callIds.length;
    const sentAt = performance.now();
    unconfirmed[call].push({ index: firstValue + index, sentAt });
    void client.put(callIds[call], 'progress', firstValue + index).then((status) => {
      acknowledgement.push(performance.now() - sentAt);
      if (status !== 200) refused++;
    });
  }
  await until(async () => propagation.length >= total, 15_000, 'every update at the participant');
  const cpuAfter = cpuSnapshot(processes);
  const elapsedMs = performance.now() - started;
  streams.forEach((stream) => stream.close());
  client.close();
  const trafficAfter = await updatesTraffic(owner);
  propagation.sort((a, b) => a - b);
  acknowledgement.sort((a, b) => a - b);
  const corePercent = Object.fromEntries(Object.keys(cpuAfter).map((name) => [name, (100 * (cpuAfter[name] - cpuBefore[name])) / elapsedMs]));
  return { propagation, acknowledgement, superseded, refused, bytesPerUpdate: (trafficAfter.bytes - trafficBefore.bytes) / total, corePercent };
}

interface SustainedRate {
  readonly concurrency: number;
  readonly perSecond: number;
  readonly acknowledged: number;
  readonly refused: number;
  readonly catchUpSeconds: number;
  /** Socket bytes between owner and participant per update, both ways. */
  readonly bytesPerUpdate: number;
  /** Updates messages (a batch counts once) from the owner per 1,000 updates. */
  readonly peerMessagesPerThousand: number;
  /** CPU microseconds per acknowledged update, per process (and `all` of them), until the participant caught up and the journals were compacted. */
  readonly cpuMicrosPerUpdate: Record<string, number>;
  /** Per 1,000 updates, of the owner's and participant's tables: journal items written, entry items written straight, and entry items the journals' compaction wrote. */
  readonly tableWrites: Record<string, { journalWritesPerThousand: number; entriesPerJournalWrite: number; directItemsPerThousand: number; compactedItemsPerThousand: number }>;
}

async function tableWrites(client: LocalCdsClient): Promise<EntryWriteStats> {
  return ((await client.health()).tableWrites as EntryWriteStats | null) ?? { journalWrites: NaN, journaledEntries: NaN, directWrites: NaN, directItems: NaN, compactedItems: NaN, compactions: NaN };
}

/** Updates per second the owner acknowledges with `concurrency` requests in flight, then how long the participant needs to catch up. */
async function sustainedRate(
  tables: { readonly owner: LocalCdsClient; readonly participant: LocalCdsClient },
  port: number,
  callIds: readonly string[],
  propertiesPerCall: number,
  processes: ReadonlyMap<string, { readonly pid?: number }>,
  concurrency = CONCURRENCY,
): Promise<SustainedRate> {
  const { owner } = tables;
  const writes = async (): Promise<Record<string, EntryWriteStats>> => ({ owner: await tableWrites(owner), participant: await tableWrites(tables.participant) });
  const client = await PipelinedLocalClient.open(port, concurrency / PIPELINE_DEPTH, TEST_LOCAL_AUTHORIZATION.authorization);
  const writesBefore = await writes();
  const trafficBefore = await updatesTraffic(owner);
  const cpuBefore = cpuSnapshot(processes);
  let acknowledged = 0;
  let refused = 0;
  let sequence = 0;
  const started = performance.now();
  const deadline = started + THROUGHPUT_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const index = sequence++;
        const status = await client.put(callIds[index % callIds.length], `field${Math.floor(index / callIds.length) % propertiesPerCall}`, index);
        if (status === 200) acknowledged++;
        else refused++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  client.close();
  const settleStart = performance.now();
  await until(async () => (await owner.health()).deliveriesIdle === true, 60_000, 'the participant to catch up');
  const catchUpSeconds = (performance.now() - settleStart) / 1000;
  // The journals are compacted a second after their writes: their CPU and items count too.
  await new Promise((resolve) => setTimeout(resolve, 2 * COMPACTION_DELAY_MS));
  const cpuAfter = cpuSnapshot(processes);
  const cpuMicrosPerUpdate = Object.fromEntries(Object.keys(cpuAfter).map((name) => [name, ((cpuAfter[name] - cpuBefore[name]) * 1000) / acknowledged]));
  cpuMicrosPerUpdate.all = Object.values(cpuMicrosPerUpdate).reduce((sum, micros) => sum + micros, 0);
  const trafficAfter = await updatesTraffic(owner);
  const bytesPerUpdate = (trafficAfter.bytes - trafficBefore.bytes) / acknowledged;
  const peerMessagesPerThousand = ((trafficAfter.messages - trafficBefore.messages) * 1000) / acknowledged;
  const writesAfter = await writes();
  const perSide = Object.fromEntries(
    Object.keys(writesAfter).map((side) => {
      const [after, before] = [writesAfter[side], writesBefore[side]];
      const journalWrites = after.journalWrites - before.journalWrites;
      const perThousand = (count: number) => (count * 1000) / acknowledged;
      return [
        side,
        {
          journalWritesPerThousand: perThousand(journalWrites),
          entriesPerJournalWrite: (after.journaledEntries - before.journaledEntries) / journalWrites,
          directItemsPerThousand: perThousand(after.directItems - before.directItems),
          compactedItemsPerThousand: perThousand(after.compactedItems - before.compactedItems),
        },
      ];
    }),
  );
  return { concurrency, perSecond: acknowledged / seconds, acknowledged, refused, catchUpSeconds, bytesPerUpdate, peerMessagesPerThousand, cpuMicrosPerUpdate, tableWrites: perSide };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cds-bench-'));
  const identities = new Map(SITES.map((site) => [site, generatePeerIdentity()]));
  for (const site of SITES) writeFileSync(path.join(dir, `${site}.pem`), identities.get(site)?.privateKeyPem ?? '', { mode: 0o600 });
  const ports = new Map<string, number>();
  const peerPorts = new Map<string, number>();
  for (const site of SITES) {
    ports.set(site, await freePort());
    peerPorts.set(site, await freePort());
  }
  if (!existsSync(COMPILED_CLI)) throw new Error('run `npm run build` first: the bench runs the compiled CLI');
  const nodeArguments = (site: string) => [
    ...['--site', site, '--listen', `127.0.0.1:${ports.get(site)}`, '--peer-listen', `127.0.0.1:${peerPorts.get(site)}`, '--peer-key-file', path.join(dir, `${site}.pem`)],
    ...SITES.filter((other) => other !== site).flatMap((other) => [
      ...['--peer', `${other}=http://127.0.0.1:${peerPorts.get(other)}`],
      ...['--peer-public-key', `${other}=${identities.get(other)?.publicKey ?? ''}`],
    ]),
  ];
  const tableServers = SITES.map(() => new TableServerProcess());
  const processes = SITES.map((site, index) => new CdsProcess(site, () => [...nodeArguments(site), '--dynamodb-endpoint', tableServers[index].endpoint, '--create-tables'], [COMPILED_CLI]));
  const loadAtStart = loadavg();
  await Promise.all(tableServers.map((server) => server.start()));
  await Promise.all(processes.map((child) => child.start()));
  const processByName = new Map<string, { readonly pid?: number }>(SITES.flatMap((site, index) => [[site, processes[index]], [`${site}'s table`, tableServers[index]]] as const));
  const [westPort, eastPort] = [ports.get('west') ?? 0, ports.get('east') ?? 0];
  const west = new LocalCdsClient(() => westPort);
  const east = new LocalCdsClient(() => eastPort);
  try {
    const callIds = Array.from({ length: CALLS }, (_, index) => `west:bench-${index}`);
    for (const callId of callIds) {
      await seedCall(west, callId);
      await east.register(callId, 'agent-desktop');
    }
    const latencyPlatform = { owner: west, ownerPort: westPort, participantPort: eastPort, processes: processByName };
    await steadyRate(latencyPlatform, callIds, WARM_UP_SECONDS, 0);
    const justStarted = await steadyRate(latencyPlatform, callIds, LATENCY_SECONDS, WARM_UP_SECONDS * LATENCY_RATE_PER_SECOND);

    const tables = { owner: west, participant: east };
    const spread = await sustainedRate(tables, westPort, callIds, PROPERTIES_PER_CALL, processByName);
    const spreadSaturated = await sustainedRate(tables, westPort, callIds, PROPERTIES_PER_CALL, processByName, SATURATING_CONCURRENCY);
    const hot = await sustainedRate(tables, westPort, callIds.slice(0, HOT_CALLS), HOT_PROPERTIES_PER_CALL, processByName);
    // The nodes' code is compiled and optimised for the paths a busy node takes (a node in service for hours); the
    // rate runs WARM_UP_SECONDS first here too, so that the figure is of that rate, not of the end of the runs above.
    const inServiceFirstValue = (WARM_UP_SECONDS + LATENCY_SECONDS) * LATENCY_RATE_PER_SECOND;
    await steadyRate(latencyPlatform, callIds, WARM_UP_SECONDS, inServiceFirstValue);
    const steady = await steadyRate(latencyPlatform, callIds, LATENCY_SECONDS, inServiceFirstValue + WARM_UP_SECONDS * LATENCY_RATE_PER_SECOND);

    const record = await west.call(callIds[0]);
    const recordBytes = Buffer.byteLength(JSON.stringify(record));
    const wholeRecordBytes = await wholeRecordSocketBytes(record, callIds[0]);

    const print = (label: string, value: string) => process.stdout.write(`${label.padEnd(66)} ${value}\n`);
    const describe = (rate: SustainedRate) =>
      `${Math.round(rate.perSecond)} (${rate.acknowledged} acknowledged, ${rate.refused} refused, ${rate.concurrency} in flight pipelined on ${rate.concurrency / PIPELINE_DEPTH} connections; participant caught up ${rate.catchUpSeconds.toFixed(1)} s later)`;
    const tableLine = (rate: SustainedRate) =>
      Object.entries(rate.tableWrites)
        .map(
          ([side, rates]) =>
            `${side} ${Math.round(rates.journalWritesPerThousand)} (${rates.journalWritesPerThousand === 0 ? 'none' : `${rates.entriesPerJournalWrite.toFixed(1)} entries each`}) + ${Math.round(rates.directItemsPerThousand)} + ${Math.round(rates.compactedItemsPerThousand)}`,
        )
        .join(', ');
    const byProcessLine = (byProcess: Record<string, number>) =>
      Object.entries(byProcess)
        .map(([name, value]) => `${name} ${Number.isNaN(value) ? 'n/a' : Math.round(value)}`)
        .join(', ');
    const cpuLine = (rate: SustainedRate) => byProcessLine(rate.cpuMicrosPerUpdate);
    const perRecipient = (bytes: number) => `${Math.round(bytes)} B, ${(bytes / wholeRecordBytes).toFixed(3)} of one whole record`;
    print('load average (1, 5, 15 min) at start', loadAtStart.map((load) => load.toFixed(2)).join(', '));
    print(`updates/s sustained by one owner, ${CALLS} calls x ${PROPERTIES_PER_CALL} properties`, describe(spread));
    print('  CPU us per update (owner west, participant east, idle site north, their tables)', cpuLine(spread));
    print('  DynamoDB journal writes + items written straight + compacted /1,000', tableLine(spread));
    print('  updates messages to the participant per 1,000 updates', `${Math.round(spread.peerMessagesPerThousand)}`);
    print(`  the same with ${SATURATING_CONCURRENCY} in flight (the owner kept busy)`, describe(spreadSaturated));
    print('  CPU us per update', cpuLine(spreadSaturated));
    print(`updates/s sustained by one owner, ${HOT_CALLS} calls x ${HOT_PROPERTIES_PER_CALL} properties`, describe(hot));
    print('  CPU us per update', cpuLine(hot));
    print('  DynamoDB journal writes + items written straight + compacted /1,000', tableLine(hot));
    print('  updates messages to the participant per 1,000 updates', `${Math.round(hot.peerMessagesPerThousand)}`);
    const latencies = (label: string, rate: SteadyRate) => {
      const { propagation, acknowledgement } = rate;
      print(
        `owner->participant propagation at ${LATENCY_RATE_PER_SECOND}/s, ${label}`,
        `p50 ${percentile(propagation, 0.5).toFixed(1)} ms, p99 ${percentile(propagation, 0.99).toFixed(1)} ms (${propagation.length} updates, ${rate.superseded} superseded in transit, ${rate.refused} refused)`,
      );
      print('  owner acknowledgement of those updates', `p50 ${percentile(acknowledgement, 0.5).toFixed(1)} ms, p99 ${percentile(acknowledgement, 0.99).toFixed(1)} ms`);
      const busy = Object.values(rate.corePercent).reduce((sum, percent) => sum + percent, 0) / cpus().length;
      print('  CPU meanwhile, % of one core', `${byProcessLine(rate.corePercent)}; together ${Math.round(busy)} % of the machine (${cpus().length} cores)`);
    };
    latencies(`nodes in service (after the runs above and ${WARM_UP_SECONDS} s at this rate)`, steady);
    latencies(`nodes just started (after ${WARM_UP_SECONDS} s warm-up)`, justStarted);
    print(`whole record to one site, on the socket (record ${recordBytes} B of JSON)`, `${Math.round(wholeRecordBytes)} B`);
    print(`socket bytes per update to one participant at ${LATENCY_RATE_PER_SECOND}/s`, perRecipient(steady.bytesPerUpdate));
    print(`socket bytes per update to one participant, ${CALLS} calls x ${PROPERTIES_PER_CALL} at full rate`, perRecipient(spread.bytesPerUpdate));
    print('fan-out: sites sent each update, whole-record sites', `${CALL_FAN_OUT} (the call's participants), ${WHOLE_RECORD_FAN_OUT} (every other site of ${SITES.length})`);
    print(
      `ratio to whole-record replication to every other site, at ${LATENCY_RATE_PER_SECOND}/s`,
      ((steady.bytesPerUpdate * CALL_FAN_OUT) / (wholeRecordBytes * WHOLE_RECORD_FAN_OUT)).toFixed(3),
    );
    print('load average (1, 5, 15 min) at end', loadavg().map((load) => load.toFixed(2)).join(', '));
  } finally {
    await Promise.all(processes.map((child) => child.stop()));
    await Promise.all(tableServers.map((server) => server.stop()));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:cds failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});

/**
 * `npm run bench:cds`: three CDS nodes (`cds serve` child processes, each with its embedded dynalite) on
 * loopback. Prints the property updates per second one owner sustains (calls spanning two sites; spread
 * over many properties, and concentrated on a few that change all the time), owner-to-participant
 * propagation latency (p50/p99) at a steady rate, and the bytes sent per update against replicating the
 * whole call record to every site (the DynamoDB global tables model) for a 4-site platform where a call
 * spans 2 sites.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { Agent, request } from 'http';
import { createServer, type AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { CdsProcess } from '../test/support/cds/cds-process';
import { LocalCdsClient, TEST_LOCAL_AUTHORIZATION } from '../test/support/cds/cds-http';
import { generatePeerIdentity } from '../runtime/cds/network/peer-identity';
import { EventStreamReader } from '../test/support/cds/event-stream-reader';

const SITES = ['west', 'east', 'north'] as const;
const CALLS = 40;
const PROPERTIES_PER_CALL = 10;
/** A few calls whose properties change all the time (live transcription, queue position): writes coalesce. */
const HOT_CALLS = 4;
const HOT_PROPERTIES_PER_CALL = 2;
const THROUGHPUT_SECONDS = 6;
const CONCURRENCY = 64;
const LATENCY_RATE_PER_SECOND = 200;
const LATENCY_SECONDS = 5;
/** Excluded from the latency figures: the first seconds of a fresh process are spent compiling and optimising code. */
const WARM_UP_SECONDS = 3;
/** Sites of the platform the byte comparison assumes; a call spans two of them. */
const PLATFORM_SITES = 4;

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, noDelay: true });

function put(port: number, callId: string, name: string, value: unknown): Promise<number> {
  const body = Buffer.from(JSON.stringify({ value }));
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port, path: `/v1/calls/${callId}/properties/${name}`, method: 'PUT', agent, headers: { ...TEST_LOCAL_AUTHORIZATION, 'content-type': 'application/json', 'content-length': body.length } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

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

/** Updates sent, single or batched (a batch carries the deltas of many calls). */
async function updatesBytesSent(client: LocalCdsClient): Promise<{ requests: number; bytes: number }> {
  const sent = (await client.health()).sent as Record<string, { requests: number; bytes: number }>;
  const [single, batched] = [sent['/v1/peer/updates'], sent['/v1/peer/updates-batch']];
  return { requests: (single?.requests ?? 0) + (batched?.requests ?? 0), bytes: (single?.bytes ?? 0) + (batched?.bytes ?? 0) };
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
}

/**
 * One property at a time at LATENCY_RATE_PER_SECOND, watched on the participant's event streams. A participant
 * holding a later value of the property than an update has that update (last writer wins): it counts as arrived.
 * Values start at `firstValue`, above those of an earlier run, so that they win.
 */
async function steadyRate(owner: LocalCdsClient, ownerPort: number, participantPort: number, callIds: readonly string[], seconds: number, firstValue: number): Promise<SteadyRate> {
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
  const bytesBefore = await updatesBytesSent(owner);
  const total = LATENCY_RATE_PER_SECOND * seconds;
  const started = performance.now();
  for (let index = 0; index < total; index++) {
    const wait = started + (index * 1000) / LATENCY_RATE_PER_SECOND - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const call = index % callIds.length;
    const sentAt = performance.now();
    unconfirmed[call].push({ index: firstValue + index, sentAt });
    void put(ownerPort, callIds[call], 'progress', firstValue + index).then((status) => {
      acknowledgement.push(performance.now() - sentAt);
      if (status !== 200) refused++;
    });
  }
  await until(async () => propagation.length >= total, 15_000, 'every update at the participant');
  streams.forEach((stream) => stream.close());
  const bytesAfter = await updatesBytesSent(owner);
  propagation.sort((a, b) => a - b);
  acknowledgement.sort((a, b) => a - b);
  return { propagation, acknowledgement, superseded, refused, bytesPerUpdate: (bytesAfter.bytes - bytesBefore.bytes) / total };
}

interface SustainedRate {
  readonly perSecond: number;
  readonly acknowledged: number;
  readonly refused: number;
  readonly catchUpSeconds: number;
}

/** Updates per second the owner acknowledges with CONCURRENCY requests in flight, then how long the participant needs to catch up. */
async function sustainedRate(owner: LocalCdsClient, port: number, callIds: readonly string[], propertiesPerCall: number): Promise<SustainedRate> {
  let acknowledged = 0;
  let refused = 0;
  let sequence = 0;
  const started = performance.now();
  const deadline = started + THROUGHPUT_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const index = sequence++;
        const status = await put(port, callIds[index % callIds.length], `field${Math.floor(index / callIds.length) % propertiesPerCall}`, index);
        if (status === 200) acknowledged++;
        else refused++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const settleStart = performance.now();
  await until(async () => (await owner.health()).deliveriesIdle === true, 60_000, 'the participant to catch up');
  return { perSecond: acknowledged / seconds, acknowledged, refused, catchUpSeconds: (performance.now() - settleStart) / 1000 };
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
  const processes = SITES.map(
    (site) =>
      new CdsProcess(site, () => [
        ...['--site', site, '--listen', `127.0.0.1:${ports.get(site)}`, '--peer-listen', `127.0.0.1:${peerPorts.get(site)}`, '--peer-key-file', path.join(dir, `${site}.pem`)],
        ...SITES.filter((other) => other !== site).flatMap((other) => [
          ...['--peer', `${other}=http://127.0.0.1:${peerPorts.get(other)}`],
          ...['--peer-public-key', `${other}=${identities.get(other)?.publicKey ?? ''}`],
        ]),
      ]),
  );
  await Promise.all(processes.map((child) => child.start()));
  const [westPort, eastPort] = [ports.get('west') ?? 0, ports.get('east') ?? 0];
  const west = new LocalCdsClient(() => westPort);
  const east = new LocalCdsClient(() => eastPort);
  try {
    const callIds = Array.from({ length: CALLS }, (_, index) => `west:bench-${index}`);
    for (const callId of callIds) {
      await seedCall(west, callId);
      await east.register(callId, 'agent-desktop');
    }
    const recordBytes = Buffer.byteLength(JSON.stringify(await west.call(callIds[0])));

    await steadyRate(west, westPort, eastPort, callIds, WARM_UP_SECONDS, 0);
    const steady = await steadyRate(west, westPort, eastPort, callIds, LATENCY_SECONDS, WARM_UP_SECONDS * LATENCY_RATE_PER_SECOND);
    const wholeRecordBytes = recordBytes * (PLATFORM_SITES - 1);

    const spread = await sustainedRate(west, westPort, callIds, PROPERTIES_PER_CALL);
    const hot = await sustainedRate(west, westPort, callIds.slice(0, HOT_CALLS), HOT_PROPERTIES_PER_CALL);

    const print = (label: string, value: string) => process.stdout.write(`${label.padEnd(58)} ${value}\n`);
    const describe = (rate: SustainedRate) =>
      `${Math.round(rate.perSecond)} (${rate.acknowledged} acknowledged, ${rate.refused} refused, ${CONCURRENCY} in flight; participant caught up ${rate.catchUpSeconds.toFixed(1)} s later)`;
    print(`updates/s sustained by one owner, ${CALLS} calls x ${PROPERTIES_PER_CALL} properties`, describe(spread));
    print(`updates/s sustained by one owner, ${HOT_CALLS} calls x ${HOT_PROPERTIES_PER_CALL} properties`, describe(hot));
    const { propagation, acknowledgement } = steady;
    print(
      `owner->participant propagation at ${LATENCY_RATE_PER_SECOND}/s, after ${WARM_UP_SECONDS} s warm-up`,
      `p50 ${percentile(propagation, 0.5).toFixed(1)} ms, p99 ${percentile(propagation, 0.99).toFixed(1)} ms (${propagation.length} updates, ${steady.superseded} superseded in transit, ${steady.refused} refused)`,
    );
    print('owner acknowledgement of those updates', `p50 ${percentile(acknowledgement, 0.5).toFixed(1)} ms, p99 ${percentile(acknowledgement, 0.99).toFixed(1)} ms`);
    print('bytes sent per update (one participant, headers included)', `${Math.round(steady.bytesPerUpdate)}`);
    print(`whole record to every other site (${PLATFORM_SITES} sites, record ${recordBytes} B)`, `${wholeRecordBytes}`);
    print('ratio', (steady.bytesPerUpdate / wholeRecordBytes).toFixed(3));
  } finally {
    await Promise.all(processes.map((child) => child.stop()));
    agent.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:cds failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});

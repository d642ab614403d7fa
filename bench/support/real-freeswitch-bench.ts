/**
 * The ESL benchmark's figures on the real FreeSWITCH: the media server's rendered configuration on loopback, calls
 * placed as SIP by the carrier profile in the same FreeSWITCH, reference call-control processes over outbound ESL.
 * FreeSWITCH, call control and this load generator share the machine's 2 cores.
 */
import type { RouteTable } from '../../runtime/dialplan';
import { EslClient } from '../../runtime/esl';
import { LocalFreeSwitch } from '../../runtime/local-freeswitch/local-freeswitch';
import { MediaServerClient } from '../../runtime/media-server';
import { spawnCallControl } from '../../test/support/call-control-fixture';
import { carrierCall, replyText } from '../../test/support/real-freeswitch';
import { percentile, processCpuSeconds } from './measure';

const HOST = '127.0.0.1';

const elapsedMs = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Rig {
  readonly freeswitch: LocalFreeSwitch;
  readonly esl: EslClient;
  readonly routes: MediaServerClient;
  readonly tables: readonly [RouteTable, RouteTable];
  readonly callControlPids: readonly number[];
  nextCaller(): string;
}

/** Places one carrier call; resolves with its originate reply (`+OK uuid`, `-ERR CAUSE`, or the client's error). */
function originate(rig: Rig, caller: string): Promise<string> {
  return replyText(rig.esl.bgapi(`originate ${carrierCall(rig.freeswitch, caller)} &park()`, { timeoutMs: 60_000 })).catch(
    (error: Error) => `${error.name}: ${error.message}`,
  );
}

/** Drain -> no new call can reach the group: until the live table (mod_hash) holds the write; probes confirm it. */
async function drainLatency(rig: Rig): Promise<void> {
  let writeApplied = 0n;
  const client = new MediaServerClient({
    api: async (command) => {
      const reply = await rig.esl.api(command);
      if (command.startsWith('hash insert/')) writeApplied = process.hrtime.bigint();
      return reply;
    },
  });
  await client.setRoutes(rig.tables[0]);
  const untilApplied: number[] = [];
  let probesOnDrained = 0;
  let probes = 0;
  for (let iteration = 0; iteration < 200; iteration++) {
    const started = process.hrtime.bigint();
    await client.drain('blue');
    untilApplied.push(Number(writeApplied - started) / 1e6);
    if (iteration % 10 === 0) {
      const caller = rig.nextCaller();
      const reply = await originate(rig, caller);
      probes++;
      if (reply.startsWith('+OK') && (await client.groupCallCount('blue')) > 0) probesOnDrained++;
      await rig.esl.api(`uuid_kill ${caller}`).catch(() => undefined);
    }
    await client.restore('blue');
  }
  const sorted = untilApplied.sort((a, b) => a - b);
  console.log(`real FreeSWITCH: drain until no new call can reach the group: p50 ${percentile(sorted, 0.5).toFixed(2)} ms, p99 ${percentile(sorted, 0.99).toFixed(2)} ms (200 drains)`);
  console.log(`real FreeSWITCH: drain probe calls reaching the drained group: ${probesOnDrained} of ${probes}`);
}

/** Calls at `ratePerSecond`, each held `holdMs` after it was answered, then hung up by the caller. */
async function callLoad(rig: Rig, count: number, ratePerSecond: number, holdMs: number, during?: () => Promise<number>) {
  const outcomes: Promise<string>[] = [];
  const answerMs: number[] = [];
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const usage = await Promise.all(['blue', 'green'].map((group) => rig.routes.groupCallCount(group))).catch(() => [0]);
      peak = Math.max(peak, usage.reduce((sum, count) => sum + count, 0));
      await pause(250);
    }
  })();
  const background = during?.();
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index++) {
    const dueMs = (index * 1000) / ratePerSecond;
    const aheadMs = dueMs - elapsedMs(started);
    if (aheadMs > 0) await pause(aheadMs);
    const caller = rig.nextCaller();
    const placedAt = process.hrtime.bigint();
    outcomes.push(
      originate(rig, caller).then(async (reply) => {
        if (reply.startsWith('+OK')) {
          answerMs.push(elapsedMs(placedAt));
          await pause(holdMs);
          await rig.esl.api(`uuid_kill ${caller}`).catch(() => undefined);
        }
        return reply;
      }),
    );
  }
  const placedInMs = elapsedMs(started);
  const replies = await Promise.all(outcomes);
  sampling = false;
  await sampler;
  const refused = replies.filter((reply) => !reply.startsWith('+OK'));
  return { placedPerSecond: (count * 1000) / placedInMs, refused, peak, answerMs, extra: await background };
}

/** Time from placing the calls to their answer, as the figures print it. */
const answerTimes = (ms: readonly number[]) => `answered in p50 ${percentile(ms, 0.5).toFixed(0)} / p99 ${percentile(ms, 0.99).toFixed(0)} ms`;

const countReplies = (replies: readonly string[]) => replies.reduce<Record<string, number>>((counts, reply) => ({ ...counts, [reply]: (counts[reply] ?? 0) + 1 }), {});

/** Calls held 10 s at a rising rate: where one FreeSWITCH carrying both SIP legs of every call tops out on 2 cores. */
async function sustainedCalls(rig: Rig, ratePerSecond: number): Promise<void> {
  const count = ratePerSecond * 15;
  const cpuBefore = [rig.freeswitch.pid!, ...rig.callControlPids].map(processCpuSeconds);
  const started = Date.now();
  const result = await callLoad(rig, count, ratePerSecond, 10_000);
  const seconds = (Date.now() - started) / 1000;
  const [freeswitchCpu, ...callControlCpu] = [rig.freeswitch.pid!, ...rig.callControlPids].map((pid, index) => processCpuSeconds(pid) - cpuBefore[index]);
  console.log(
    `real FreeSWITCH sustained load: ${count} SIP calls offered at ${ratePerSecond} calls/s, held 10 s: peak ${result.peak} concurrent calls under call control, ` +
      `${result.refused.length} refused ${JSON.stringify(countReplies(result.refused.map(shortReply)))}, ` +
      `${answerTimes(result.answerMs)}, ` +
      `FreeSWITCH CPU ${((freeswitchCpu / seconds) * 100).toFixed(0)}% of one core (both SIP legs of every call), ` +
      `call control (2 processes) ${((callControlCpu.reduce((sum, value) => sum + value, 0) / seconds) * 100).toFixed(0)}%`,
  );
}

/**
 * The same short calls with and without route writes back to back (on a connection of their own, as the orchestrator's
 * are): refusals the writes add, apart from load. The time from placing a call to its answer shows how near
 * FreeSWITCH is to what it can take: refusals past that are its load, not the writes.
 */
async function refusalsDuringRouteWrites(rig: Rig, ratePerSecond: number): Promise<void> {
  const count = ratePerSecond * 10;
  const baseline = await callLoad(rig, count, ratePerSecond, 0);
  const writerEsl = await EslClient.connect({ ...rig.freeswitch.eslOptions, commandTimeoutMs: 30_000 });
  const routes = new MediaServerClient(writerEsl);
  const started = Date.now();
  const placingEnds = started + (count * 1000) / ratePerSecond;
  // At least 1,000 writes, and writes for as long as calls are being placed.
  const writer = async () => {
    let writes = 0;
    for (; writes < 1_000 || Date.now() < placingEnds; writes++) await routes.setRoutes(rig.tables[writes % 2]);
    return writes;
  };
  const result = await callLoad(rig, count, ratePerSecond, 0, writer).finally(() => writerEsl.close());
  console.log(
    `real FreeSWITCH: ${result.extra} route writes back to back while ${count} calls were offered at ${ratePerSecond} calls/s (${((Date.now() - started) / 1000).toFixed(1)} s): ` +
      `${result.refused.length} refused ${JSON.stringify(countReplies(result.refused.map(shortReply)))} (target 0), ${answerTimes(result.answerMs)}; ` +
      `the same calls without writes: ${baseline.refused.length} refused, ${answerTimes(baseline.answerMs)}`,
  );
}

/**
 * Where a call's time goes, from FreeSWITCH's own events on a connection of their own: channels per offered call
 * (CHANNEL_CREATE) and the applications executed on them per call (CHANNEL_EXECUTE_COMPLETE: the dialplan's steps,
 * the `socket` hand-off to call control and what call control then executes), plus the inbound ESL round trips this
 * load generator makes per call (originate, hang up, group counts). Call control's own commands that run no
 * application (e.g. `api`) are not among the events and are not counted.
 */
async function whereTheTimeGoes(rig: Rig, ratePerSecond: number): Promise<void> {
  // The calls of an earlier phase past FreeSWITCH's capacity may still be ending: their events are not this phase's.
  for (const deadline = Date.now() + 120_000; (await rig.routes.activeCalls()).total > 0 && Date.now() < deadline; ) await pause(500);
  const events = await EslClient.connect(rig.freeswitch.eslOptions);
  const applications = new Map<string, number>();
  let channels = 0;
  events.on('event', (event) => {
    if (event.name === 'CHANNEL_CREATE') channels++;
    if (event.name === 'CHANNEL_EXECUTE_COMPLETE') {
      const name = `${event.headers['Call-Direction'] ?? '?'} leg: ${event.headers.Application ?? '?'}`;
      applications.set(name, (applications.get(name) ?? 0) + 1);
    }
  });
  await events.subscribe(['CHANNEL_CREATE', 'CHANNEL_EXECUTE_COMPLETE']);
  let roundTrips = 0;
  const counting: Rig = { ...rig, esl: countingEsl(rig.esl, () => roundTrips++) };
  const count = ratePerSecond * 5;
  const result = await callLoad(counting, count, ratePerSecond, 1_000);
  // CHANNEL_EXECUTE_COMPLETE of the last hang-ups may still be on their way: wait until the count stops moving.
  const eventsSeen = () => [...applications.values()].reduce((sum, value) => sum + value, channels);
  for (let previous = -1; eventsSeen() !== previous; await pause(200)) previous = eventsSeen();
  await events.close();
  const answered = count - result.refused.length;
  const perCall = [...applications].sort((a, b) => b[1] - a[1]).map(([name, value]) => `${name} ${(value / answered).toFixed(2)}`);
  console.log(
    `real FreeSWITCH per call (${answered} answered of ${count} at ${ratePerSecond} calls/s, from its events): ${(channels / answered).toFixed(2)} channels; ` +
      `applications executed: ${perCall.join(', ')}; load generator's inbound ESL round trips ${(roundTrips / answered).toFixed(2)}`,
  );
}

/** `esl` with every command counted by `onCommand`. */
function countingEsl(esl: EslClient, onCommand: () => void): EslClient {
  return new Proxy(esl, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if ((property === 'api' || property === 'bgapi') && typeof value === 'function') {
        return (...args: unknown[]) => {
          onCommand();
          return value.apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `-ERR CAUSE`, or the client error's name: one short key per kind of refusal. */
const shortReply = (reply: string) => (reply.startsWith('-ERR') ? reply : reply.split(':')[0]);

/** Runs the real-FreeSWITCH figures; resolves once everything it started is stopped. */
export async function benchmarkRealFreeSwitch(binary: string): Promise<void> {
  const freeswitch = await LocalFreeSwitch.start({ binary, logLevel: 'warning', rtpPorts: { from: 10000, to: 30000 } });
  const blue = await spawnCallControl('blue');
  const green = await spawnCallControl('green');
  const esl = await EslClient.connect({ ...freeswitch.eslOptions, commandTimeoutMs: 30_000 });
  const routes = new MediaServerClient(esl);
  const table = (first: { id: string; port: number }, second: { id: string; port: number }): RouteTable => ({
    groups: [first, second].map(({ id, port }) => ({ id, endpoints: [{ host: HOST, port }], state: 'active' as const })),
  });
  const blueGroup = { id: 'blue', port: blue.eslPort };
  const greenGroup = { id: 'green', port: green.eslPort };
  let callers = 0;
  const rig: Rig = {
    freeswitch,
    esl,
    routes,
    tables: [table(blueGroup, greenGroup), table(greenGroup, blueGroup)],
    callControlPids: [blue.process.pid!, green.process.pid!],
    nextCaller: () => `bench-${++callers}`,
  };
  try {
    await routes.setRoutes(rig.tables[0]);
    await drainLatency(rig);
    for (const ratePerSecond of [50, 100]) await refusalsDuringRouteWrites(rig, ratePerSecond);
    await whereTheTimeGoes(rig, 10);
    for (const ratePerSecond of [25, 50, 100]) await sustainedCalls(rig, ratePerSecond);
  } finally {
    await esl.close();
    await blue.stop();
    await green.stop();
    await freeswitch.stop();
  }
}

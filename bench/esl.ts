/**
 * ESL benchmark on loopback, each component in its own process:
 *  1. api round trips through runtime/esl versus raw modesl in the same run, the order alternating call by call:
 *     the median of per-round ratios with its spread, and the microseconds our layer adds per call (target <= 1.15);
 *  2. drain(): time until the route write is applied in FreeSWITCH, i.e. until no new call can reach
 *     the group (target p99 < 50 ms), under a background call load, checked by probe calls;
 *  3. concurrent calls the simulator and the reference call-control sustain (target 1,000 concurrent at 100 calls/s);
 *  4. the same on the real FreeSWITCH when it is installed (bench/support/real-freeswitch-bench.ts), plus calls refused
 *     during 1,000 route writes under 100 calls/s (target 0).
 */
import { ChildProcess, fork } from 'child_process';
import * as path from 'path';
import { EslClient } from '../runtime/esl';
import { MediaServerClient } from '../runtime/media-server';
import { findFreeSwitchBinary } from '../runtime/local-freeswitch/local-freeswitch';
import { mean, percentile, processCpuSeconds } from './support/measure';
import { benchmarkRealFreeSwitch } from './support/real-freeswitch-bench';
import { spawnCallControl } from '../test/support/call-control-fixture';
import { SIMULATOR_PASSWORD } from '../test/support/media-server-fixture';

const HOST = '127.0.0.1';

class SimulatorProcess {
  private nextId = 0;
  private readonly pending = new Map<number, (result: unknown) => void>();
  private constructor(private readonly child: ChildProcess, readonly eslPort: number) {
    child.on('message', (message: { id?: number; result?: unknown }) => {
      if (message.id !== undefined) this.pending.get(message.id)?.(message.result);
    });
  }

  static async start(): Promise<SimulatorProcess> {
    const child = fork(path.join(__dirname, 'support/simulator-process.ts'), [], { execArgv: ['-r', 'ts-node/register/transpile-only'] });
    const eslPort = await new Promise<number>((resolve) => child.once('message', (message: { eslPort: number }) => resolve(message.eslPort)));
    return new SimulatorProcess(child, eslPort);
  }

  request<T>(command: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (result: unknown) => void);
      this.child.send({ id, ...command });
    });
  }
}

function summary(latenciesMs: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length };
}

async function timed(count: number, once: () => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = process.hrtime.bigint();
    await once();
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return latencies;
}

/** The slice of modesl's API the baseline uses; the benchmark is the one place besides runtime/esl that loads it. */
interface RawConnection {
  socket: import('net').Socket;
  api(command: string, callback: (event: { getBody(): string }) => void): void;
  disconnect(): void;
}
type RawConnectionConstructor = new (host: string, port: number, password: string, onReady: () => void) => RawConnection;

/** Raw modesl as an application would use it, given TCP_NODELAY too so only the wrapper's own cost is compared. */
async function rawModeslClient(port: number): Promise<{ api(command: string): Promise<string>; close(): void }> {
  const { Connection } = require('modesl') as { Connection: RawConnectionConstructor };
  const connection = await new Promise<RawConnection>((resolve) => {
    const created: RawConnection = new Connection(HOST, port, SIMULATOR_PASSWORD, () => resolve(created));
    created.socket.setNoDelay(true);
  });
  return {
    api: (command) => new Promise((resolve) => connection.api(command, (event) => resolve(event.getBody()))),
    close: () => connection.disconnect(),
  };
}

const OVERHEAD_ROUNDS = 40;
const CALLS_PER_ROUND = 250;

/** Round-trip time of one api call, in microseconds. */
async function timeCall(call: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await call();
  return Number(process.hrtime.bigint() - started) / 1e3;
}

/**
 * The same api call through raw modesl and through runtime/esl, alternating which goes first call by call (and
 * which opens a round), so neither always meets a warmer cache or a busier moment. Each round yields the ratio of
 * the two means and the microseconds runtime/esl added per call; the bench prints their medians and spreads.
 */
async function apiOverhead(simulator: SimulatorProcess): Promise<void> {
  const raw = await rawModeslClient(simulator.eslPort);
  const wrapped = await EslClient.connect({ host: HOST, port: simulator.eslPort, password: SIMULATOR_PASSWORD });
  await timed(500, () => raw.api('hostname'));
  await timed(500, () => wrapped.api('hostname'));
  const rawAll: number[] = [];
  const wrappedAll: number[] = [];
  const ratios: number[] = [];
  const addedMicros: number[] = [];
  for (let round = 0; round < OVERHEAD_ROUNDS; round++) {
    const rawRound: number[] = [];
    const wrappedRound: number[] = [];
    for (let call = 0; call < CALLS_PER_ROUND; call++) {
      const rawFirst = (round + call) % 2 === 0;
      if (rawFirst) rawRound.push(await timeCall(() => raw.api('hostname')));
      wrappedRound.push(await timeCall(() => wrapped.api('hostname')));
      if (!rawFirst) rawRound.push(await timeCall(() => raw.api('hostname')));
    }
    ratios.push(mean(wrappedRound) / mean(rawRound));
    addedMicros.push(mean(wrappedRound) - mean(rawRound));
    rawAll.push(...rawRound);
    wrappedAll.push(...wrappedRound);
  }
  raw.close();
  await wrapped.close();
  const rawSummary = summary(rawAll.map((micros) => micros / 1e3));
  const wrappedSummary = summary(wrappedAll.map((micros) => micros / 1e3));
  const spread = (values: readonly number[], digits: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { median: percentile(sorted, 0.5).toFixed(digits), range: `p10-p90 ${percentile(sorted, 0.1).toFixed(digits)}-${percentile(sorted, 0.9).toFixed(digits)}` };
  };
  const ratio = spread(ratios, 3);
  const added = spread(addedMicros, 1);
  console.log(`esl api raw modesl: ${(1000 / rawSummary.mean).toFixed(0)} round-trips/s, p50 ${rawSummary.p50.toFixed(3)} ms, p99 ${rawSummary.p99.toFixed(3)} ms`);
  console.log(`esl api runtime/esl: ${(1000 / wrappedSummary.mean).toFixed(0)} round-trips/s, p50 ${wrappedSummary.p50.toFixed(3)} ms, p99 ${wrappedSummary.p99.toFixed(3)} ms`);
  console.log(
    `esl api overhead ratio (runtime/esl mean / raw mean per round, order alternating call by call; ${OVERHEAD_ROUNDS} rounds of ${CALLS_PER_ROUND} calls each): ` +
      `median ${ratio.median} (${ratio.range}) (target <= 1.15); runtime/esl adds ${added.median} us per call (${added.range})`,
  );
}

async function drainLatency(simulator: SimulatorProcess, ports: { blue: number; green: number }): Promise<void> {
  const esl = await EslClient.connect({ host: HOST, port: simulator.eslPort, password: SIMULATOR_PASSWORD });
  let writeApplied = 0n;
  const client = new MediaServerClient({
    api: async (command) => {
      const reply = await esl.api(command);
      if (command.startsWith('hash insert/')) writeApplied = process.hrtime.bigint();
      return reply;
    },
  });
  await client.setRoutes({
    groups: [
      { id: 'blue', endpoints: [{ host: HOST, port: ports.blue }], state: 'active' },
      { id: 'green', endpoints: [{ host: HOST, port: ports.green }], state: 'active' },
    ],
  });
  const background = simulator.request<{ placed: number; answered: number }>({ command: 'placeCalls', count: 400, ratePerSecond: 40, durationMs: 2_000 });
  const untilApplied: number[] = [];
  const whole: number[] = [];
  let probesOnDrained = 0;
  for (let iteration = 0; iteration < 100; iteration++) {
    const started = process.hrtime.bigint();
    await client.drain('blue');
    whole.push(Number(process.hrtime.bigint() - started) / 1e6);
    untilApplied.push(Number(writeApplied - started) / 1e6);
    if (iteration % 5 === 0) {
      const probe = await simulator.request<{ group: string }>({ command: 'placeCall', durationMs: 50 });
      if (probe.group === 'blue') probesOnDrained++;
    }
    await client.restore('blue');
  }
  const backgroundResult = await background;
  await esl.close();
  const applied = summary(untilApplied);
  const total = summary(whole);
  console.log(`drain until no new call can reach the group: p50 ${applied.p50.toFixed(2)} ms, p99 ${applied.p99.toFixed(2)} ms (target p99 < 50 ms)`);
  console.log(`drain() including read-back verification: p50 ${total.p50.toFixed(2)} ms, p99 ${total.p99.toFixed(2)} ms`);
  console.log(`drain probe calls reaching the drained group: ${probesOnDrained} of 20; background calls answered: ${backgroundResult.answered} of ${backgroundResult.placed}`);
}

async function sustainedCalls(simulator: SimulatorProcess, callControlPids: readonly number[]): Promise<void> {
  const before = await simulator.request<{ cpu: NodeJS.CpuUsage }>({ command: 'stats' });
  const callControlBefore = callControlPids.map(processCpuSeconds);
  const started = Date.now();
  const result = await simulator.request<{ placed: number; answered: number; causes: Record<string, number> }>({ command: 'placeCalls', count: 2_000, ratePerSecond: 100, durationMs: 10_000 });
  const seconds = (Date.now() - started) / 1000;
  const after = await simulator.request<{ cpu: NodeJS.CpuUsage; peakActiveCalls: number; rssMiB: number }>({ command: 'stats' });
  const cpuSeconds = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
  const callControlCpuSeconds = callControlPids.reduce((sum, pid, index) => sum + processCpuSeconds(pid) - callControlBefore[index], 0);
  console.log(`sustained load: ${result.placed} calls at 100 calls/s, 10 s each, peak ${after.peakActiveCalls} concurrent`);
  console.log(`sustained load: answered ${result.answered}, hangup causes ${JSON.stringify(result.causes)}`);
  console.log(`sustained load: simulator CPU ${((cpuSeconds / seconds) * 100).toFixed(0)}% of one core, RSS ${after.rssMiB.toFixed(0)} MiB`);
  console.log(`sustained load: call-control (2 processes) CPU ${((callControlCpuSeconds / seconds) * 100).toFixed(0)}% of one core in all`);
}

async function main(): Promise<void> {
  const simulator = await SimulatorProcess.start();
  const blue = await spawnCallControl('blue');
  const green = await spawnCallControl('green');
  try {
    await apiOverhead(simulator);
    await drainLatency(simulator, { blue: blue.eslPort, green: green.eslPort });
    await sustainedCalls(simulator, [blue.process.pid!, green.process.pid!]);
  } finally {
    await simulator.request({ command: 'stop' });
    await blue.stop();
    await green.stop();
  }
  const binary = findFreeSwitchBinary();
  if (binary === undefined) console.log('real FreeSWITCH: not installed under /opt/freeswitch (or VOICEPLANE_FREESWITCH), skipped');
  else await benchmarkRealFreeSwitch(binary);
}

void main();

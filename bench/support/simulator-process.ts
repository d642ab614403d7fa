/**
 * A simulated media server in its own process for benchmarks, driven over IPC:
 * `placeCalls` / `placeCall` / `stats` / `stop` messages, answered with `{id, result}`.
 */
import { startMediaServer, CALL_CONTEXT } from '../../test/support/media-server-fixture';

type Request =
  | { id: number; command: 'placeCalls'; count: number; ratePerSecond: number; durationMs: number }
  | { id: number; command: 'placeCall'; durationMs: number }
  | { id: number; command: 'stats' }
  | { id: number; command: 'stop' };

async function main(): Promise<void> {
  const simulator = await startMediaServer();
  let peakActiveCalls = 0;
  const sampler = setInterval(() => (peakActiveCalls = Math.max(peakActiveCalls, simulator.stats().activeCalls)), 50);
  const reply = (id: number, result: unknown) => process.send?.({ id, result });
  process.on('message', async (request: Request) => {
    switch (request.command) {
      case 'placeCalls': {
        const batch = simulator.placeCalls({ count: request.count, ratePerSecond: request.ratePerSecond, destination: '15550100000', context: CALL_CONTEXT, durationMs: request.durationMs });
        const outcomes = await batch.outcomes();
        const causes: Record<string, number> = {};
        for (const outcome of outcomes) causes[outcome.hangupCause] = (causes[outcome.hangupCause] ?? 0) + 1;
        reply(request.id, { placed: outcomes.length, answered: outcomes.filter((outcome) => outcome.answered).length, causes });
        break;
      }
      case 'placeCall': {
        const outcome = await simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: request.durationMs }).outcome;
        reply(request.id, { group: outcome.variables.vp_cc_group, answered: outcome.answered });
        break;
      }
      case 'stats':
        reply(request.id, { ...simulator.stats(), peakActiveCalls, cpu: process.cpuUsage(), rssMiB: process.memoryUsage().rss / 2 ** 20 });
        break;
      case 'stop':
        clearInterval(sampler);
        await simulator.stop();
        reply(request.id, {});
        process.exit(0);
    }
  });
  process.send?.({ ready: true, eslPort: simulator.eslPort });
}

void main();

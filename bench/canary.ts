/**
 * `npm run bench:canary`: how fast a canary backs out a bad version. A local fleet (blue and green, the reference
 * call-control service as local processes) takes 20 calls/s of 2-6 s; blue is upgraded to a version that fails 30 %
 * of the calls it takes, with a 5 % canary (judged on at least 10 calls). Printed per media server (the simulator,
 * and the real FreeSWITCH when one is installed: VOICEPLANE_FREESWITCH or /opt/freeswitch): the time from the bad version's first failed call (its end, as
 * FreeSWITCH reports it) to its share of 0 in the route table (the verified write), the calls it took meanwhile and
 * in all, and the calls that did not complete besides the ones it failed (must be 0). The same run as
 * `voiceplane demo --canary`.
 */
import { findFreeSwitchBinary } from '../runtime/local-freeswitch/local-freeswitch';
import { runDemoCommand } from '../runtime/commands/demo-command';

const CALLS_PER_SECOND = 20;
const RUNS = 3;

interface CanaryRun {
  readonly mediaServer: string;
  readonly passed: boolean;
  readonly placed: number;
  readonly notCompleted: number;
  readonly canary: { readonly canaryCalls: number; readonly failedCalls: number; readonly detectionMs?: number; readonly callsMeanwhile: number };
}

async function run(freeswitch: string | undefined): Promise<CanaryRun> {
  const lines: string[] = [];
  await runDemoCommand({ json: true, canary: true, ...(freeswitch ? { freeswitch } : {}) }, { stdout: { line: (text) => lines.push(text) }, env: process.env, isTty: false, settings: { callsPerSecond: CALLS_PER_SECOND } });
  const summary = JSON.parse(lines[lines.length - 1]);
  return { mediaServer: summary.mediaServer, passed: summary.passed, placed: summary.placed, notCompleted: summary.dropped + summary.refused, canary: summary.canary };
}

async function main(): Promise<void> {
  const realBinary = findFreeSwitchBinary();
  console.log(`canary of a version failing 30 % of its calls: 5 % share, ${CALLS_PER_SECOND} calls/s of 2-6 s, ${RUNS} runs per media server`);
  for (const freeswitch of realBinary ? [undefined, realBinary] : [undefined]) {
    for (let index = 0; index < RUNS; index += 1) {
      const result = await run(freeswitch);
      const { canary } = result;
      const detection = canary.detectionMs === undefined ? 'never' : `${(canary.detectionMs / 1000).toFixed(1)} s`;
      console.log(
        `${result.mediaServer.padEnd(40)} first failure to share 0: ${detection.padStart(7)}, ${canary.callsMeanwhile} call(s) taken meanwhile; ` +
          `the bad version took ${canary.canaryCalls} of ${result.placed} calls and failed ${canary.failedCalls}; other calls not completed: ${result.notCompleted - canary.failedCalls}${result.passed ? '' : ' (DEMO FAILED)'}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:canary failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});

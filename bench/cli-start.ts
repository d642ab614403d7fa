/**
 * CLI start: the time from starting `voiceplane` (the package's bin, compiled by `npm run build`) to its first
 * byte of output, for help, the version, a mistyped command and a usage error of a command that talks to a media
 * server. Target: first output under 0.5 s. Each case runs 10 times; the median and the slowest are printed.
 */
import { spawn } from 'child_process';
import { existsSync } from 'fs';
import * as path from 'path';
import { percentile } from './support/measure';

const BIN = path.join(__dirname, '../bin/voiceplane.js');
const RUNS = 10;
const CASES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['--help', ['--help']],
  ['--version', ['--version']],
  ['routes set --help', ['routes', 'set', '--help']],
  ['mistyped command', ['rotues']],
  ['calls without --esl', ['calls']],
  ['upgrade --plan without inventory', ['upgrade', '--plan']],
];

function firstOutputMs(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let first: number | undefined;
    const onData = () => (first ??= Number(process.hrtime.bigint() - started) / 1e6);
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('close', () => (first === undefined ? reject(new Error(`voiceplane ${args.join(' ')} printed nothing`)) : resolve(first)));
  });
}

async function main(): Promise<void> {
  if (!existsSync(path.join(__dirname, '../dist/runtime/cli.js'))) throw new Error('run `npm run build` first: the bench times the compiled CLI');
  console.log(`voiceplane first output (compiled, ${RUNS} runs each; target < 500 ms)`);
  for (const [name, args] of CASES) {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run += 1) times.push(await firstOutputMs(args));
    console.log(`  ${name.padEnd(34)} median ${percentile(times, 0.5).toFixed(0).padStart(4)} ms   slowest ${Math.max(...times).toFixed(0).padStart(4)} ms`);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});

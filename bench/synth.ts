/**
 * Synth time and peak memory for the example topology and a generated 20-site / 200-media-server
 * topology. Each case runs in a fresh child process so its memory peak is its own.
 * Target: the 20-site synth under 15 s on a 2-core machine.
 */
import '../stacks/plain-stack-traces';
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { parseTopology } from '../lib';
import { generateTopology } from '../stacks/generate-topology';
import { buildPlatform } from '../stacks/platform';

interface CaseResult {
  readonly seconds: number;
  readonly peakRssMiB: number;
  readonly stacks: number;
  readonly resources: number;
}

function synthCase(name: string): CaseResult {
  const input = name === 'example' ? JSON.parse(readFileSync(path.join(__dirname, '../stacks/topology.example.json'), 'utf8')) : generateTopology({ sites: 20, mediaServersPerSite: 10 });
  const outdir = mkdtempSync(path.join(tmpdir(), 'voiceplane-bench-'));
  const started = process.hrtime.bigint();
  const app = new App({ outdir });
  const platform = buildPlatform(app, parseTopology(input), 'aws');
  app.synth();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stacks = [...platform.dataCenterStacks, ...platform.siteStacks];
  const resources = stacks.reduce((count, stack) => {
    const json = JSON.parse(readFileSync(path.join(outdir, 'stacks', stack.node.id, 'cdk.tf.json'), 'utf8'));
    return count + Object.values<Record<string, unknown>>(json.resource ?? {}).reduce((sum, byName) => sum + Object.keys(byName).length, 0);
  }, 0);
  rmSync(outdir, { recursive: true, force: true });
  return { seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, stacks: stacks.length, resources };
}

function main(): void {
  const caseName = process.argv[2];
  if (caseName) {
    process.stdout.write(JSON.stringify(synthCase(caseName)));
    return;
  }
  for (const name of ['example', '20-sites-200-media-servers']) {
    const output = execFileSync(process.execPath, ['-r', path.join(__dirname, '../stacks/register-sources.js'), __filename, name], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    const result: CaseResult = JSON.parse(output);
    console.log(`synth ${name}: ${result.seconds.toFixed(2)} s`);
    console.log(`synth ${name}: peak RSS ${result.peakRssMiB.toFixed(0)} MiB`);
    console.log(`synth ${name}: ${result.stacks} stacks, ${result.resources} resources`);
  }
}

main();

/**
 * What `npm run synth` costs: the app command of cdktf.json run as a whole process (module loading and
 * TypeScript compilation included), wall clock from spawn to exit and the peak resident memory of its process
 * tree (the app and the archiver processes CDKTF starts), for the example topology, generated topologies and a
 * one-stack synth (`VOICEPLANE_STACKS`) of the generated one. Each case prints the load average it ran under and the
 * CPU time of the tree (user + system, from the shell's `times`), which a busy machine inflates far less than the wall
 * clock.
 *
 *   npm run bench:synth                       example, 20 sites / 200 media servers, one site of it
 *   npm run bench:synth -- 100x10             example, 100 sites / 1,000 media servers, one site of it
 *   npm run bench:synth -- --hash 20x10       sha256 of every stack's cdk.tf.json and of the manifest (prove a change keeps the output)
 *
 * Target: 100 sites / 1,000 media servers under 30 s and 1 GiB; one site no slower than the example.
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { loadavg, tmpdir } from 'os';
import * as path from 'path';
import { siteStackName } from '../lib';
import { generateTopology } from '../stacks/generate-topology';

const ROOT = path.join(__dirname, '..');
const EXAMPLE_TOPOLOGY = path.join(ROOT, 'stacks/topology.example.json');
const RSS_SAMPLE_MS = 25;

interface SynthRun {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakTreeRssMiB: number;
  readonly outdir: string;
}

/** The `app` command line of cdktf.json, which `cdktf synth` runs in the project directory. */
function appCommand(): string {
  const { app } = JSON.parse(readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8')) as { app: string };
  return app;
}

/** Resident memory of `pid` and all its descendants, in KiB, from /proc (Linux); 0 once they are gone. */
function treeRssKiB(pid: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const parent = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
      rss.set(Number(entry), Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0));
    } catch {
      // The process ended while being read.
    }
  }
  const sum = (id: number): number => (rss.get(id) ?? 0) + (children.get(id) ?? []).reduce((total, child) => total + sum(child), 0);
  return sum(pid);
}

/** `times` of a POSIX shell: its own user and system time, then its waited-for children's (`0m1.250000s 0m0.100000s`). */
function childCpuSeconds(timesOutput: string): number {
  const lines = timesOutput.trim().split('\n').slice(-2);
  const seconds = lines.map((line) => /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(line.trim()));
  const children = seconds[1];
  if (!seconds[0] || !children) throw new Error(`shell times: unexpected output "${timesOutput.trim()}"`);
  return Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4]);
}

/** Runs the app command as `cdktf synth` would, through a shell, sampling the tree's memory until it exits. */
async function runSynth(topologyFile: string, stacks?: string): Promise<SynthRun> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'voiceplane-bench-synth-'));
  const env = { ...process.env, CDKTF_OUTDIR: outdir, VOICEPLANE_TOPOLOGY: topologyFile, ...(stacks ? { VOICEPLANE_STACKS: stacks } : {}) };
  const started = process.hrtime.bigint();
  // The app's own output goes nowhere; the shell then reports the CPU time of everything it ran.
  const child = spawn(`(${appCommand()}) >/dev/null; status=$?; times; exit $status`, { cwd: ROOT, env, shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let peakKiB = 0;
  const sampler = setInterval(() => (peakKiB = Math.max(peakKiB, treeRssKiB(child.pid!))), RSS_SAMPLE_MS);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  if (code !== 0) throw new Error(`synth of ${topologyFile} exited with ${code}: ${stderr.trim()}`);
  return { seconds, cpuSeconds: childCpuSeconds(stdout), peakTreeRssMiB: peakKiB / 1024, outdir };
}

function stackJsonFiles(outdir: string): Map<string, string> {
  const stacksDir = path.join(outdir, 'stacks');
  return new Map(readdirSync(stacksDir).sort().map((stack) => [stack, path.join(stacksDir, stack, 'cdk.tf.json')]));
}

function resourceCount(file: string): number {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { resource?: Record<string, Record<string, unknown>> };
  return Object.values(json.resource ?? {}).reduce((sum, byName) => sum + Object.keys(byName).length, 0);
}

interface BenchCase {
  readonly label: string;
  readonly topologyFile: string;
  readonly stacks?: string;
}

function describe(run: SynthRun): string {
  const files = stackJsonFiles(run.outdir);
  const resources = [...files.values()].reduce((sum, file) => sum + resourceCount(file), 0);
  return `${run.seconds.toFixed(2)} s (CPU ${run.cpuSeconds.toFixed(2)} s), peak RSS ${run.peakTreeRssMiB.toFixed(0)} MiB (process tree), ${files.size} stack${files.size === 1 ? '' : 's'}, ${resources} resources`;
}

/** `20x10` -> a generated topology of 20 sites with 10 media servers each, written to `directory`. */
function generatedTopologyFile(size: string, directory: string): { label: string; file: string; firstSite: string } {
  const match = /^(\d+)x(\d+)$/.exec(size);
  if (!match) throw new Error(`topology size: expected SITESxMEDIA_SERVERS (e.g. 100x10), got "${size}"`);
  const [sites, mediaServersPerSite] = [Number(match[1]), Number(match[2])];
  const topology = generateTopology({ sites, mediaServersPerSite });
  const file = path.join(directory, `topology-${size}.json`);
  writeFileSync(file, JSON.stringify(topology));
  return { label: `${sites} sites / ${sites * mediaServersPerSite} media servers`, file, firstSite: siteStackName(topology.platform, topology.sites[0].id) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const hashOnly = args.includes('--hash');
  const size = args.find((arg) => arg !== '--hash') ?? '20x10';
  const workDir = mkdtempSync(path.join(tmpdir(), 'voiceplane-bench-topology-'));
  try {
    const generated = generatedTopologyFile(size, workDir);
    if (hashOnly) {
      for (const topologyFile of [EXAMPLE_TOPOLOGY, generated.file]) {
        const run = await runSynth(topologyFile);
        const files = [...stackJsonFiles(run.outdir), ['manifest.json', path.join(run.outdir, 'manifest.json')] as const];
        for (const [name, file] of files) console.log(`${createHash('sha256').update(readFileSync(file)).digest('hex')}  ${path.basename(topologyFile)} ${name}`);
        rmSync(run.outdir, { recursive: true, force: true });
      }
      return;
    }
    const cases: BenchCase[] = [
      { label: 'example', topologyFile: EXAMPLE_TOPOLOGY },
      { label: generated.label, topologyFile: generated.file },
      { label: `one site of ${generated.label} (VOICEPLANE_STACKS=${generated.firstSite})`, topologyFile: generated.file, stacks: generated.firstSite },
    ];
    for (const benchCase of cases) {
      const load = loadavg().map((value) => value.toFixed(2)).join(' ');
      const run = await runSynth(benchCase.topologyFile, benchCase.stacks);
      console.log(`synth ${benchCase.label}: ${describe(run)} [load average before: ${load}]`);
      rmSync(run.outdir, { recursive: true, force: true });
    }
    console.log('target: 100 sites / 1,000 media servers under 30 s and 1 GiB (npm run bench:synth -- 100x10); one site no slower than the example');
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (!existsSync('/proc/self/status')) {
  console.error('bench:synth reads process memory from /proc: Linux only');
  process.exit(1);
}
main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});

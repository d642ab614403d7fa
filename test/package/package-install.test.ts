import { execFileSync, spawn } from 'child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { createInterface } from 'readline';
import * as ts from 'typescript';
import { requestJson } from '../call-control/http-get';
import { fetchNodeBinary } from '../support/node-binary';
import { packAndInstall, type InstalledPackage } from '../support/packed-package';
import { reportMissingTool } from '../support/missing-tool';

// The package as another CDKTF app gets it: `npm pack` (which builds it), installed with production dependencies
// only, imported by name. The app is examples/two-region-platform, compiled on its own against the package.

const EXAMPLE = path.join(__dirname, '../../examples/two-region-platform/platform.ts');
const TSC = require.resolve('typescript/bin/tsc');

/** Imports the package, records what that loaded and how long it took, then synthesizes the example with it. */
const SYNTH_SCRIPT = `
const started = process.hrtime.bigint();
const voiceplane = require('voiceplane');
const importMs = Number(process.hrtime.bigint() - started) / 1e6;
const loaded = Object.keys(require.cache);
const { App } = require('cdktf');
const { buildTwoRegionPlatform } = require('./platform');
const app = new App({ outdir: process.argv[2] });
buildTwoRegionPlatform(app);
app.synth();
console.log(JSON.stringify({ constructs: [typeof voiceplane.MspSite, typeof voiceplane.CentralDataCenter], importMs, loaded }));
`;

interface SynthResult {
  readonly constructs: string[];
  readonly importMs: number;
  readonly loaded: string[];
}

let installed: InstalledPackage;
let synth: SynthResult;
let stacks: Record<string, { resource: Record<string, Record<string, unknown>> }>;

beforeAll(() => {
  installed = packAndInstall();
  const { projectDir } = installed;
  writeFileSync(path.join(projectDir, 'platform.js'), ts.transpileModule(readFileSync(EXAMPLE, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText);
  writeFileSync(path.join(projectDir, 'synth.js'), SYNTH_SCRIPT);
  const outdir = path.join(projectDir, 'cdktf.out');
  synth = JSON.parse(execFileSync(process.execPath, ['synth.js', outdir], { cwd: projectDir, encoding: 'utf8' })) as SynthResult;
  const stacksDir = path.join(outdir, 'stacks');
  stacks = Object.fromEntries(readdirSync(stacksDir).map((name) => [name, JSON.parse(readFileSync(path.join(stacksDir, name, 'cdk.tf.json'), 'utf8'))]));
}, 240_000);

afterAll(() => installed?.remove());

const packageFiles = (): string[] => execFileSync('tar', ['-tzf', installed.tarball], { encoding: 'utf8' }).trim().split('\n').map((entry) => entry.replace(/^package\//, ''));
const installedModule = (name: string): boolean => existsSync(path.join(installed.projectDir, 'node_modules', name, 'package.json'));

describe('the voiceplane package', () => {
  it('holds the compiled JavaScript with its declarations, the CLI and the topology schema; no tests, no TypeScript sources', () => {
    const files = packageFiles();
    expect(files).toEqual(expect.arrayContaining(['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/msp-site.d.ts', 'dist/runtime/call-control/index.d.ts', 'dist/runtime/cli.js', 'bin/voiceplane.js', 'stacks/topology.schema.json']));
    expect(files.filter((file) => file.startsWith('dist/test/') || file.startsWith('test/') || file.startsWith('examples/'))).toEqual([]);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('installs with its production and peer dependencies only', () => {
    expect(['cdktf', 'constructs', '@cdktf/provider-aws', 'esbuild', 'zod'].filter((name) => !installedModule(name))).toEqual([]);
    expect(['typescript', 'ts-node', 'jest', 'cdktf-cli', 'typedoc'].filter(installedModule)).toEqual([]);
  });

  it('its `voiceplane` command runs from the install, without development dependencies', () => {
    const help = execFileSync(path.join(installed.projectDir, 'node_modules/.bin/voiceplane'), ['--help'], { cwd: installed.projectDir, encoding: 'utf8' });
    expect(help).toMatch(/^Usage: voiceplane /);
  });

  it('a CDKTF app that imports { MspSite, CentralDataCenter } from it synthesizes both stacks', () => {
    expect(synth.constructs).toEqual(['function', 'function']);
    expect(Object.keys(stacks).sort()).toEqual(['example-dc-virginia', 'example-site-frankfurt']);
    const dc = stacks['example-dc-virginia'].resource;
    expect(Object.keys(dc.aws_ecs_service)).toHaveLength(2);
    expect(Object.keys(dc.aws_sfn_state_machine)).toHaveLength(1);
    // The upgrade steps' Lambda package, bundled at synth from the package's compiled handlers.
    expect(Object.keys(dc.aws_lambda_function).length).toBeGreaterThan(0);
    expect(readdirSync(path.join(installed.projectDir, 'cdktf.out/stacks/example-dc-virginia/assets')).length).toBeGreaterThan(0);
    const site = stacks['example-site-frankfurt'].resource;
    expect(Object.keys(site.aws_launch_template ?? {}).length).toBeGreaterThan(0);
    expect(Object.keys(site.aws_vpc_peering_connection)).toHaveLength(1);
  });

  it('importing it loads the constructs and their pure runtime parts, not the AWS SDK, the ESL client or the runtime services', () => {
    const packages = new Set(synth.loaded.filter((file) => file.includes('node_modules/')).map((file) => file.split('node_modules/').pop()!.split('/')[0]));
    expect(['@aws-sdk', '@smithy', 'modesl', 'dynalite', 'axios', 'commander'].filter((name) => packages.has(name))).toEqual([]);
    const runtimeFolders = new Set(synth.loaded.filter((file) => file.includes('/voiceplane/dist/runtime/')).map((file) => file.split('/voiceplane/dist/runtime/')[1].split('/')[0]));
    expect(['esl', 'handlers', 'media-server', 'freeswitch-simulator', 'local-freeswitch', 'cli.js'].filter((name) => runtimeFolders.has(name))).toEqual([]);
    // A measurement, not a bound: the import's cost is mostly cdktf and the AWS provider's resource classes.
    console.log(`require('voiceplane'): ${synth.importMs.toFixed(0)} ms, ${synth.loaded.length} modules`);
  });

  it('type-checks a user\'s TypeScript against its declarations, and they are precise enough to reject a misuse', () => {
    const { projectDir } = installed;
    cpSync(EXAMPLE, path.join(projectDir, 'platform.ts'));
    writeFileSync(path.join(projectDir, 'misuse.ts'), "import { MspSite } from 'voiceplane';\nexport const notAConstruct: number = MspSite;\n");
    const typeCheck = (file: string): string => {
      try {
        return execFileSync(process.execPath, [TSC, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--skipLibCheck', file], { cwd: projectDir, encoding: 'utf8' });
      } catch (error) {
        return (error as { stdout: string }).stdout;
      }
    };
    expect(typeCheck('platform.ts')).toBe('');
    expect(typeCheck('misuse.ts')).toContain("error TS2322: Type 'typeof MspSite' is not assignable to type 'number'");
  });

  it('serves its subpaths: the topology model, the call-control extension point, the media-server client, the schema', () => {
    const script = `
      const topology = require('voiceplane/topology');
      const callControl = require('voiceplane/call-control');
      console.log(JSON.stringify({
        parseTopology: typeof topology.parseTopology,
        CallControlService: typeof callControl.CallControlService,
        MediaServerClient: typeof require('voiceplane/media-server').MediaServerClient,
        parseFleetInventory: typeof require('voiceplane/fleet-inventory').parseFleetInventory,
        FreeSwitchSimulator: typeof require('voiceplane/freeswitch-simulator').FreeSwitchSimulator,
        schema: require('voiceplane/topology.schema.json').type,
      }));`;
    expect(JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: installed.projectDir, encoding: 'utf8' }))).toEqual({
      parseTopology: 'function',
      CallControlService: 'function',
      MediaServerClient: 'function',
      parseFleetInventory: 'function',
      FreeSwitchSimulator: 'function',
      schema: 'object',
    });
  });
});

describe('the package on Node 22, the images\' runtime', () => {
  let node22: string | undefined;

  beforeAll(() => {
    const dir = path.join(installed.projectDir, 'node22');
    mkdirSync(dir);
    node22 = fetchNodeBinary(22, dir);
    if (node22 === undefined) reportMissingTool(`no Node.js 22 binary for ${process.platform}-${process.arch}: the Node 22 tests are skipped`, 'VOICEPLANE_REQUIRE_NODE22');
    else expect(execFileSync(node22, ['--version'], { encoding: 'utf8' })).toMatch(/^v22\./);
  }, 120_000);

  it('voiceplane synth (the compiled CLI: node dist/runtime/cli.js) synthesizes the example topology', () => {
    if (node22 === undefined) return;
    const packageDir = path.join(installed.projectDir, 'node_modules/voiceplane');
    const outdir = path.join(installed.projectDir, 'node22-synth');
    const topology = path.join(packageDir, 'stacks/topology.example.json');
    const stdout = execFileSync(node22, [path.join(packageDir, 'dist/runtime/cli.js'), 'synth', '--topology', topology, '--out', outdir], {
      cwd: installed.projectDir,
      env: { PATH: process.env.PATH, VOICEPLANE_PROFILE: 'offline' },
      encoding: 'utf8',
    });
    expect(stdout.trim().split('\n')).toEqual(['acme-dc-east', 'acme-site-frankfurt', 'acme-site-west'].map((stack) => path.join(outdir, 'stacks', stack, 'cdk.tf.json')));
    const dc = JSON.parse(readFileSync(path.join(outdir, 'stacks/acme-dc-east/cdk.tf.json'), 'utf8'));
    expect(Object.keys(dc.resource.aws_ecs_service).length).toBeGreaterThanOrEqual(2);
  });

  it('the compiled call-control service answers /health, and SIGTERM ends it with exit 0', async () => {
    if (node22 === undefined) return;
    const entry = path.join(installed.projectDir, 'node_modules/voiceplane/dist/runtime/handlers/call-control.js');
    const child = spawn(node22, [entry], {
      env: { PATH: process.env.PATH, CALL_CONTROL_GROUP: 'blue', CALL_CONTROL_VERSION: '2.0.0', CALL_CONTROL_ESL_PORT: '0', CALL_CONTROL_HEALTH_PORT: '0', CALL_CONTROL_LISTEN_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const httpPort = await new Promise<number>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`call control exited with ${code} before it started`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; httpPort?: number };
          if (entry.msg === 'call control started' && entry.httpPort) resolve(entry.httpPort);
        });
      });
      expect(await requestJson(httpPort, '/health')).toMatchObject({ status: 200, body: { version: '2.0.0', group: 'blue', acceptingCalls: true } });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

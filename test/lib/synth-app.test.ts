import { execFile } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';

const run = promisify(execFile);
const MAIN = path.join(__dirname, '../../stacks/main.ts');

async function synthApp(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string; outdir: string }> {
  const outdir = path.join(mkdtempSync(path.join(tmpdir(), 'voiceplane-app-')), 'cdktf.out');
  try {
    const { stdout, stderr } = await run(process.execPath, ['-r', path.join(__dirname, '../../stacks/register-sources.js'), MAIN], {
      env: { ...withoutStateVariables(process.env), CDKTF_OUTDIR: outdir, ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr, outdir };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr, outdir };
  }
}

/** The developer's own VOICEPLANE_STATE_* settings must not reach the app under test. */
function withoutStateVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('VOICEPLANE_STATE_')));
}

/** The example topology without its stateBackend section, written to a file of its own. */
function topologyWithoutStateBackend(): string {
  const { stateBackend: _removed, ...input } = JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8'));
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'voiceplane-topology-')), 'no-backend.json');
  writeFileSync(file, JSON.stringify(input));
  return file;
}

function backendOf(outdir: string, stackName: string): unknown {
  return JSON.parse(readFileSync(path.join(outdir, 'stacks', stackName, 'cdk.tf.json'), 'utf8')).terraform.backend;
}

/** Every file below `dir`, as sorted paths relative to it. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('the CDKTF app (stacks/main.ts)', () => {
  it('synthesizes one stack per data center and per site from the embedded example', async () => {
    const result = await synthApp({});
    expect(result.code).toBe(0);
    expect(readdirSync(path.join(result.outdir, 'stacks')).sort()).toEqual(['acme-dc-east', 'acme-site-frankfurt', 'acme-site-west']);
  });

  it('is deterministic across processes: two separate synths write byte-identical stacks and assets', async () => {
    const [first, second] = await Promise.all([synthApp({}), synthApp({})]);
    expect([first.code, second.code]).toEqual([0, 0]);
    const files = listFiles(path.join(first.outdir, 'stacks'));
    expect(files.filter((file) => file.endsWith('cdk.tf.json'))).toHaveLength(3);
    expect(listFiles(path.join(second.outdir, 'stacks'))).toEqual(files);
    for (const file of files) {
      expect({ file, content: readFileSync(path.join(second.outdir, 'stacks', file)).toString('base64') }).toEqual({ file, content: readFileSync(path.join(first.outdir, 'stacks', file)).toString('base64') });
    }
  });

  it('synthesizes only the stacks VOICEPLANE_STACKS names, each byte for byte as the whole synth writes it', async () => {
    const [whole, selected] = await Promise.all([synthApp({}), synthApp({ VOICEPLANE_STACKS: 'acme-site-frankfurt, acme-dc-east' })]);
    expect([whole.code, selected.code]).toEqual([0, 0]);
    expect(readdirSync(path.join(selected.outdir, 'stacks')).sort()).toEqual(['acme-dc-east', 'acme-site-frankfurt']);
    const files = listFiles(path.join(selected.outdir, 'stacks'));
    // The data center's stack carries the orchestrator's Lambda package: assets are compared too.
    expect(files.filter((file) => file.endsWith('.zip'))).toHaveLength(1);
    for (const file of files) {
      expect({ file, content: readFileSync(path.join(selected.outdir, 'stacks', file)).toString('base64') }).toEqual({ file, content: readFileSync(path.join(whole.outdir, 'stacks', file)).toString('base64') });
    }
    // Deployed with cdktf, the site still waits for the data center built with it.
    const manifest = JSON.parse(readFileSync(path.join(selected.outdir, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.stacks).sort()).toEqual(['acme-dc-east', 'acme-site-frankfurt']);
    expect(manifest.stacks['acme-site-frankfurt'].dependencies).toEqual(['acme-dc-east']);
  });

  it('refuses, in one line and writing nothing, a VOICEPLANE_STACKS name the topology does not have', async () => {
    const result = await synthApp({ VOICEPLANE_STACKS: 'acme-site-west,acme-site-paris' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual(['stack "acme-site-paris" is not in this topology (its stacks: acme-dc-east, acme-site-west, acme-site-frankfurt)']);
    expect(existsSync(result.outdir)).toBe(false);
  });

  it('exits non-zero with the validation messages and writes nothing for a bad topology', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'voiceplane-topology-')), 'bad.json');
    writeFileSync(file, JSON.stringify({ platform: 'acme', runtimeImage: 'img:1', dataCenters: [], sites: [] }));
    const result = await synthApp({ VOICEPLANE_TOPOLOGY: file });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('dataCenters: at least one data center is required');
    expect(result.stderr).toContain('sites: at least one site is required');
    expect(existsSync(result.outdir)).toBe(false);
  });

  it('names the file when it cannot be read', async () => {
    const result = await synthApp({ VOICEPLANE_TOPOLOGY: '/nonexistent/topology.json' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/nonexistent/topology.json: cannot read topology file (ENOENT)');
  });

  it('refuses, in one line and writing nothing, to synthesize the aws profile without a state backend', async () => {
    const result = await synthApp({ VOICEPLANE_TOPOLOGY: topologyWithoutStateBackend() });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^no Terraform state backend: .*VOICEPLANE_STATE_BUCKET and VOICEPLANE_STATE_REGION/)]);
    expect(existsSync(result.outdir)).toBe(false);
  });

  it('takes the state backend from VOICEPLANE_STATE_* over the topology, or local state when asked for', async () => {
    const [s3, local] = await Promise.all([
      synthApp({ VOICEPLANE_STATE_BUCKET: 'ci-state', VOICEPLANE_STATE_REGION: 'eu-west-1', VOICEPLANE_STATE_PREFIX: 'ci/acme' }),
      synthApp({ VOICEPLANE_TOPOLOGY: topologyWithoutStateBackend(), VOICEPLANE_STATE_BACKEND: 'local' }),
    ]);
    expect([s3.code, local.code]).toEqual([0, 0]);
    expect(backendOf(s3.outdir, 'acme-site-west')).toEqual({ s3: { bucket: 'ci-state', key: 'ci/acme/acme-site-west.tfstate', region: 'eu-west-1', encrypt: true, use_lockfile: true } });
    expect(backendOf(local.outdir, 'acme-site-west')).toEqual({ local: { path: 'terraform.acme-site-west.tfstate' } });
  });

  it('rejects a bad state variable naming it', async () => {
    const result = await synthApp({ VOICEPLANE_STATE_BUCKET: 'ci-state', VOICEPLANE_STATE_REGION: 'nowhere' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('VOICEPLANE_STATE_REGION: not an AWS region name (expected e.g. "us-east-1")');
  });

  it('rejects an unknown deployment profile', async () => {
    const result = await synthApp({ VOICEPLANE_PROFILE: 'staging' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('VOICEPLANE_PROFILE: must be "aws" or "offline", got "staging"');
  });
});

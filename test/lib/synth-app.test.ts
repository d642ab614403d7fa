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
      env: { ...process.env, CDKTF_OUTDIR: outdir, ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr, outdir };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr, outdir };
  }
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

  it('rejects an unknown deployment profile', async () => {
    const result = await synthApp({ VOICEPLANE_PROFILE: 'staging' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('VOICEPLANE_PROFILE: must be "aws" or "offline", got "staging"');
  });
});

import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App, AssetType, TerraformAsset, TerraformStack } from 'cdktf';
import { LambdaBundle } from '../../lib';
import { waitFor } from '../support/wait-for';

const FILES = { 'fleet-inventory.json': '{"mediaServers":[]}\n', 'notes.txt': 'second extra file\n' };

function entryModule(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'voiceplane-entry-')), 'handler.ts');
  writeFileSync(file, "import { basename } from 'path';\nexport const handler = async (): Promise<string> => basename('/a/ok');\n");
  return file;
}

function bundleIn(stack: TerraformStack, id: string, entry: string, files: Record<string, string>): { bundle: LambdaBundle; zip: string } {
  const bundle = new LambdaBundle(stack, id, { entry, files });
  return { bundle, zip: bundle.path };
}

/** Synthesizes `app` and returns the zip of each bundle, read from the stack directory. */
function synthesizedZip(app: App, stackName: string, relative: string): Buffer {
  app.synth();
  return readFileSync(path.join(app.outdir, 'stacks', stackName, relative));
}

function unzip(zip: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-unzipped-'));
  const file = path.join(dir, 'package.zip');
  writeFileSync(file, zip);
  execFileSync('unzip', ['-q', file, '-d', path.join(dir, 'out')]);
  return path.join(dir, 'out');
}

/** Command lines of this process's children that run esbuild (Linux /proc). */
function esbuildChildren(): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const parent = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return parent === process.pid && command.includes('esbuild') ? [command] : [];
      } catch {
        return []; // The process ended while being read.
      }
    });
}

describe('LambdaBundle', () => {
  const entry = entryModule();

  it('zips the bundle, its source map and the extra files, with fixed times and read-only-for-others modes', () => {
    const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'voiceplane-bundle-')) });
    const stack = new TerraformStack(app, 'one');
    const { zip } = bundleIn(stack, 'Code', entry, FILES);
    const unpacked = unzip(synthesizedZip(app, 'one', zip));
    expect(readdirSync(unpacked).sort()).toEqual(['fleet-inventory.json', 'index.js', 'index.js.map', 'notes.txt']);
    expect(readFileSync(path.join(unpacked, 'fleet-inventory.json'), 'utf8')).toBe(FILES['fleet-inventory.json']);
    expect(readFileSync(path.join(unpacked, 'index.js'), 'utf8')).toContain('handler');
    for (const name of readdirSync(unpacked)) {
      const stat = statSync(path.join(unpacked, name));
      expect({ name, mode: stat.mode & 0o777, modified: stat.mtime.getUTCFullYear() }).toEqual({ name, mode: 0o644, modified: 2000 });
    }
  });

  it('names the package by the hash CDKTF gives a directory of the same files (the functions\' source_code_hash)', () => {
    const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'voiceplane-bundle-')) });
    const stack = new TerraformStack(app, 'one');
    const { bundle, zip } = bundleIn(stack, 'Code', entry, FILES);
    const unpacked = unzip(synthesizedZip(app, 'one', zip));
    const directoryAsset = new TerraformAsset(new TerraformStack(new App({ outdir: mkdtempSync(path.join(tmpdir(), 'voiceplane-dir-')) }), 'other'), 'Directory', {
      path: unpacked,
      type: AssetType.DIRECTORY,
    });
    expect(bundle.assetHash).toMatch(/^[0-9A-F]{32}$/);
    expect(bundle.assetHash).toBe(directoryAsset.assetHash);
    expect(bundle.path).toMatch(new RegExp(`^assets/Code_Asset_[0-9A-F]{8}/${bundle.assetHash}/archive\\.zip$`));
  });

  it('writes the same zip for the same files in every stack, and another hash when a file differs', () => {
    const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'voiceplane-bundle-')) });
    const first = bundleIn(new TerraformStack(app, 'first'), 'Code', entry, FILES);
    const second = bundleIn(new TerraformStack(app, 'second'), 'Code', entry, FILES);
    const changed = bundleIn(new TerraformStack(app, 'third'), 'Code', entry, { ...FILES, 'notes.txt': 'changed\n' });
    app.synth();
    const zipOf = (stackName: string, relative: string) => readFileSync(path.join(app.outdir, 'stacks', stackName, relative));
    expect(second.bundle.assetHash).toBe(first.bundle.assetHash);
    expect(zipOf('second', second.zip).equals(zipOf('first', first.zip))).toBe(true);
    expect(changed.bundle.assetHash).not.toBe(first.bundle.assetHash);
  });

  it('leaves no esbuild process running once it has bundled (its service holds over 150 MB until the synth exits)', async () => {
    new LambdaBundle(new TerraformStack(new App({ outdir: mkdtempSync(path.join(tmpdir(), 'voiceplane-bundle-')) }), 'one'), 'Code', { entry: entryModule() });
    await waitFor(() => esbuildChildren().length === 0, { timeoutMs: 5000, message: 'no esbuild child process left' });
  });

  it('leaves nothing in the temporary directory once the synthesizing process exits, the package being in its stack', () => {
    const repository = path.join(__dirname, '../..');
    const temporary = mkdtempSync(path.join(tmpdir(), 'voiceplane-synth-tmp-'));
    const outdir = mkdtempSync(path.join(tmpdir(), 'voiceplane-bundle-'));
    const synth = [
      "const { App, TerraformStack } = require('cdktf');",
      `const { LambdaBundle } = require(${JSON.stringify(path.join(repository, 'lib/lambda-bundle.ts'))});`,
      'const app = new App({ outdir: process.argv[1] });',
      "const bundle = new LambdaBundle(new TerraformStack(app, 'one'), 'Code', { entry: process.argv[2] });",
      'app.synth();',
      'process.stdout.write(bundle.path);',
    ].join('\n');
    const zip = execFileSync(process.execPath, ['-r', path.join(repository, 'stacks/register-sources.js'), '-e', synth, outdir, entry], {
      cwd: repository,
      env: { ...process.env, TMPDIR: temporary },
      encoding: 'utf8',
    });
    expect(readdirSync(unzip(readFileSync(path.join(outdir, 'stacks', 'one', zip)))).sort()).toEqual(['index.js', 'index.js.map']);
    // Only ours: a dependency keeps its compile cache there (v8-compile-cache).
    expect(readdirSync(temporary).filter((name) => name.startsWith('voiceplane-'))).toEqual([]);
  });

  it('refuses an extra file that would replace the bundle or is not a plain file name', () => {
    const stack = new TerraformStack(new App({ outdir: mkdtempSync(path.join(tmpdir(), 'voiceplane-bundle-')) }), 'one');
    expect(() => new LambdaBundle(stack, 'Index', { entry, files: { 'index.js': '' } })).toThrow('files: "index.js" must be a plain file name other than index.js and index.js.map');
    expect(() => new LambdaBundle(stack, 'Nested', { entry, files: { 'config/inventory.json': '{}' } })).toThrow('files: "config/inventory.json" must be a plain file name');
  });
});

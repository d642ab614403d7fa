import { execFile } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import type { SandboxReport, SandboxSpec } from './container-sandbox';

const run = promisify(execFile);
const SANDBOX = path.join(__dirname, 'container-sandbox.ts');
const REPOSITORY = path.join(__dirname, '../../..');

/** Root can make the namespaces a container sandbox needs; anyone else gets a loud skip (CI runs as root). */
export function containerSandboxOrSkip(what: string): boolean {
  if (process.getuid?.() === 0) return true;
  console.warn(`\nNOT ROOT: ${what} needs network, mount and PID namespaces (unshare) and is SKIPPED\n`);
  return false;
}

/** Runs `spec` in fresh network and mount namespaces (see container-sandbox.ts) and returns its report. */
export async function runInContainerSandbox(spec: SandboxSpec): Promise<SandboxReport> {
  const dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-sandbox-'));
  const specFile = path.join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  try {
    const { stdout } = await run('unshare', ['--net', '--mount', '--propagation', 'private', process.execPath, '-r', 'ts-node/register/transpile-only', SANDBOX, specFile], {
      cwd: REPOSITORY,
      timeout: 180_000,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      if (error.stdout?.trim()) return { stdout: error.stdout };
      throw new Error(`container sandbox failed: ${error.message}\n${error.stderr ?? ''}`);
    });
    const report = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as SandboxReport & { error?: string };
    if (report.error) throw new Error(`container sandbox failed: ${report.error}`);
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

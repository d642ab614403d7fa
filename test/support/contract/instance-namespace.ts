import { execFile } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';

const run = promisify(execFile);
const REPOSITORY = path.join(__dirname, '../../..');

/**
 * Directories a boot writes to: each gets a private copy-on-write layer (overlayfs) inside the namespace, so the
 * boot scripts write their absolute paths (/etc/freeswitch, /etc/sysctl.d, /usr/local/sbin, /root, /var/lib/cloud,
 * renames inside /etc included) while the machine's own files never change.
 */
const WRITABLE_DIRECTORIES = ['/etc', '/var', '/run', '/root', '/usr/local'];

/** Whether this process may create namespaces (root); else a loud warning, and the caller skips. */
export function namespacesOrSkip(): boolean {
  if (process.getuid?.() === 0) return true;
  console.warn('\nNOT ROOT: the user-data boot tests need mount, network and PID namespaces (unshare) and are SKIPPED\n');
  return false;
}

/**
 * Runs `probe` (a TypeScript file) as the first process of fresh mount, network, UTS and PID namespaces: an "instance"
 * whose writable directories are private layers over the machine's, whose network is its own loopback only, and whose
 * processes (FreeSWITCH, Kamailio, ...) all die with the probe. Resolves with the probe's last stdout line, parsed.
 */
export async function runInInstanceNamespace<T>(probe: string, args: readonly string[], timeoutMs: number): Promise<T> {
  const layers = mkdtempSync(path.join(tmpdir(), 'voiceplane-instance-'));
  const script = [
    'set -eu',
    `mount -t tmpfs -o mode=0700 voiceplane-instance "${layers}"`,
    ...WRITABLE_DIRECTORIES.map((directory) => {
      const layer = `${layers}/${directory.slice(1).replace(/\//g, '_')}`;
      return `mkdir -p "${layer}/upper" "${layer}/work" && mount -t overlay overlay -o "lowerdir=${directory},upperdir=${layer}/upper,workdir=${layer}/work" "${directory}"`;
    }),
    'ip link set lo up',
    `exec "${process.execPath}" -r ts-node/register/transpile-only "$@"`,
  ].join('\n');
  try {
    const { stdout } = await run('unshare', ['--mount', '--net', '--uts', '--pid', '--fork', '--mount-proc', 'sh', '-c', script, 'instance', probe, ...args], {
      cwd: REPOSITORY,
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as T;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${path.basename(probe)} failed: ${failed.message}\n--- stdout ---\n${failed.stdout?.slice(-4_000)}\n--- stderr ---\n${failed.stderr?.slice(-4_000)}`);
  } finally {
    rmSync(layers, { recursive: true, force: true });
  }
}

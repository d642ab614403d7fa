import { execFile } from 'child_process';
import { mkdirSync, mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { describeWithTerraform, OFFLINE_CLI_CONFIG, PLUGIN_CACHE_DIR } from '../support/terraform';

const run = promisify(execFile);
const PROJECT_ROOT = path.join(__dirname, '../..');
const CDKTF = path.join(PROJECT_ROOT, 'node_modules/.bin/cdktf');

/** Whether commands can run in a network namespace of their own, where nothing but an unconfigured loopback exists. */
async function networkNamespaceAvailable(): Promise<boolean> {
  try {
    await run('unshare', ['--map-root-user', '--net', 'true'], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

describeWithTerraform('the README offline diff: cdktf diff of one stack with no network', () => {
  it('plans a site stack with the offline profile, the mirror-only CLI configuration and --skip-provider-lock', async () => {
    const isolated = await networkNamespaceAvailable();
    if (!isolated) console.warn('\nNO NETWORK NAMESPACE (unshare --net): the offline cdktf diff runs with this machine\'s network\n');
    mkdirSync(PLUGIN_CACHE_DIR, { recursive: true });
    const outdir = path.join(mkdtempSync(path.join(tmpdir(), 'voiceplane-diff-')), 'cdktf.out');
    const diff = [CDKTF, 'diff', 'acme-site-west', '--skip-provider-lock', '--no-color', '--output', outdir];
    const [command, ...args] = isolated ? ['unshare', '--map-root-user', '--net', ...diff] : diff;

    const { stdout } = await run(command, args, {
      cwd: PROJECT_ROOT,
      timeout: 280_000,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        VOICEPLANE_PROFILE: 'offline',
        TF_CLI_CONFIG_FILE: OFFLINE_CLI_CONFIG,
        CHECKPOINT_DISABLE: '1',
        // Links the mirrored provider instead of copying it (the README's command works without it).
        TF_PLUGIN_CACHE_DIR: PLUGIN_CACHE_DIR,
      },
    });

    expect(stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy\./);
    // The site's VPC peering to its data center is planned against the offline placeholders.
    expect(stdout).toContain('vpc-0000000000offline');
  }, 300_000);
});

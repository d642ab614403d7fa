import { execFile } from 'child_process';
import { mkdirSync } from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { findExecutable, reportMissingTool } from './missing-tool';

const run = promisify(execFile);
const PROJECT_ROOT = path.join(__dirname, '../..');

/** The CLI configuration that points `terraform init` at the local provider mirror. */
export const OFFLINE_CLI_CONFIG = path.join(PROJECT_ROOT, 'terraform/offline.tfrc');
/** Shared across stacks so each init links the 700 MB provider instead of copying it. */
export const PLUGIN_CACHE_DIR = path.join(PROJECT_ROOT, '.terraform-plugin-cache');

/**
 * Whether `terraform` is on PATH; when it is not, a loud warning naming the `tests` (the caller then skips them), or a
 * failure with VOICEPLANE_REQUIRE_TERRAFORM=1 (CI sets it).
 */
export function terraformOrSkip(tests: string): boolean {
  if (findExecutable('terraform', (process.env.PATH ?? '').split(path.delimiter).filter(Boolean))) return true;
  reportMissingTool(`TERRAFORM NOT FOUND ON PATH, SKIPPED: ${tests}`, 'VOICEPLANE_REQUIRE_TERRAFORM');
  return false;
}

/** `describe` when terraform is on PATH, a loudly skipped `describe` otherwise. */
export function describeWithTerraform(name: string, body: () => void): void {
  (terraformOrSkip(name) ? describe : describe.skip)(name, body);
}

export interface TerraformResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs terraform offline in `cwd` with dummy credentials; rejects with its output on failure. */
export async function terraform(cwd: string, args: readonly string[]): Promise<TerraformResult> {
  mkdirSync(PLUGIN_CACHE_DIR, { recursive: true });
  try {
    return await run('terraform', [...args], {
      cwd,
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TF_CLI_CONFIG_FILE: OFFLINE_CLI_CONFIG,
        TF_PLUGIN_CACHE_DIR: PLUGIN_CACHE_DIR,
        TF_IN_AUTOMATION: '1',
        TF_INPUT: '0',
        CHECKPOINT_DISABLE: '1',
        AWS_ACCESS_KEY_ID: 'offline-plan',
        AWS_SECRET_ACCESS_KEY: 'offline-plan',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
  } catch (error) {
    const failure = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`terraform ${args.join(' ')} failed in ${cwd}:\n${failure.stderr ?? ''}\n${failure.stdout ?? ''}`);
  }
}

import { execFile } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { findExecutable, reportMissingTool } from '../missing-tool';

const run = promisify(execFile);

/** Where Debian installs them: the boot runs with systemd's PATH, as cloud-init does on an instance. */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface CloudInitTools {
  readonly cloudInit: string;
  /** The AWS CLI the boot scripts call (Debian's `awscli`, as on the AMI). */
  readonly aws: string;
}

const onSystemPath = (name: string) => findExecutable(name, SYSTEM_PATH.split(':'));

/**
 * Debian's cloud-init and AWS CLI, or undefined after a loud warning when one is missing (the caller then skips).
 * With VOICEPLANE_REQUIRE_CLOUD_INIT=1 a missing one throws instead.
 */
export function cloudInitToolsOrSkip(): CloudInitTools | undefined {
  const cloudInit = onSystemPath('cloud-init');
  const aws = onSystemPath('aws');
  if (cloudInit && aws) return { cloudInit, aws };
  const missing = [cloudInit ? undefined : 'CLOUD-INIT', aws ? undefined : 'AWS CLI'].filter(Boolean).join(' and ');
  const message = `${missing} NOT FOUND: the user-data contract tests are SKIPPED (apt-get install cloud-init awscli)`;
  reportMissingTool(message, 'VOICEPLANE_REQUIRE_CLOUD_INIT');
  return undefined;
}

export interface SchemaVerdict {
  readonly valid: boolean;
  /** cloud-init's own words, for assertion messages. */
  readonly output: string;
}

/** `cloud-init schema --config-file`: whether cloud-init accepts `cloudConfig`, and what it said. */
export async function cloudInitSchema(tools: CloudInitTools, cloudConfig: string): Promise<SchemaVerdict> {
  const directory = mkdtempSync(path.join(tmpdir(), 'voiceplane-cloud-config-'));
  const file = path.join(directory, 'user-data');
  writeFileSync(file, cloudConfig);
  try {
    const { stdout, stderr } = await run(tools.cloudInit, ['schema', '--config-file', file]);
    return { valid: stdout.includes('Valid cloud-config'), output: `${stdout}${stderr}`.trim() };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return { valid: false, output: `${failed.stdout ?? ''}${failed.stderr ?? failed.message}`.trim() };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

import { mkdtempSync, readFileSync, readdirSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { StateBackend, Topology } from '../../lib';
import { DeploymentProfile } from '../../stacks/deployment-profile';
import { buildPlatform } from '../../stacks/platform';

export interface SynthesizedPlatform {
  readonly outdir: string;
  /** Stack name -> directory holding its cdk.tf.json. */
  readonly stackDirs: Record<string, string>;
}

/** Synthesizes the whole platform to a fresh directory, as `cdktf synth` does; the state backend defaults to the topology's. */
export function synthPlatform(
  topology: Topology,
  profile: DeploymentProfile,
  outdir = mkdtempSync(path.join(tmpdir(), 'voiceplane-synth-')),
  stateBackend: StateBackend | undefined = topology.stateBackend,
): SynthesizedPlatform {
  const app = new App({ outdir, skipValidation: false });
  buildPlatform(app, topology, profile, stateBackend);
  app.synth();
  const stacksDir = path.join(outdir, 'stacks');
  const stackDirs = Object.fromEntries(readdirSync(stacksDir).map((name) => [name, path.join(stacksDir, name)]));
  return { outdir, stackDirs };
}

export function readStackJson(dir: string): string {
  return readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8');
}

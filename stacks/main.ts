import './plain-stack-traces';
import * as path from 'path';
import { App } from 'cdktf';
import { TopologyError } from '../lib';
import { deploymentProfileSchema } from './deployment-profile';
import { packageRoot } from '../runtime/cli/package-root';
import { loadTopologyFile } from './load-topology';
import { synthesizePlatform } from './platform';
import { StackSelectionError, selectStacks } from './stack-selection';
import { StateBackendError, resolveStateBackend, stackStateBackend } from './state-backend-settings';

export const DEFAULT_TOPOLOGY = path.join(packageRoot(), 'stacks/topology.example.json');

/**
 * The CDKTF app: `VOICEPLANE_TOPOLOGY` selects the topology, `VOICEPLANE_PROFILE` aws (default) or offline,
 * the VOICEPLANE_STATE_* variables override the topology's state backend field by field, and `VOICEPLANE_STACKS`
 * (comma-separated stack names) builds only those stacks.
 */
function main(): void {
  const profile = deploymentProfileSchema.safeParse(process.env.VOICEPLANE_PROFILE ?? 'aws');
  if (!profile.success) {
    console.error(`VOICEPLANE_PROFILE: must be "aws" or "offline", got "${process.env.VOICEPLANE_PROFILE}"`);
    process.exit(1);
  }
  try {
    const topology = loadTopologyFile(process.env.VOICEPLANE_TOPOLOGY ?? DEFAULT_TOPOLOGY);
    const stacks = selectStacks(topology, process.env.VOICEPLANE_STACKS);
    const configured = resolveStateBackend(topology.stateBackend, {
      VOICEPLANE_STATE_BACKEND: process.env.VOICEPLANE_STATE_BACKEND,
      VOICEPLANE_STATE_BUCKET: process.env.VOICEPLANE_STATE_BUCKET,
      VOICEPLANE_STATE_REGION: process.env.VOICEPLANE_STATE_REGION,
      VOICEPLANE_STATE_PREFIX: process.env.VOICEPLANE_STATE_PREFIX,
    });
    // Before the App, which creates the output directory.
    const stateBackend = stackStateBackend(profile.data, configured);
    const app = new App();
    synthesizePlatform(app, topology, profile.data, stateBackend, stacks);
  } catch (error) {
    if (!(error instanceof TopologyError || error instanceof StateBackendError || error instanceof StackSelectionError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

main();

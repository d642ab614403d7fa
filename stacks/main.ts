import * as path from 'path';
import { App } from 'cdktf';
import { TopologyError } from '../lib';
import { deploymentProfileSchema } from './deployment-profile';
import { loadTopologyFile } from './load-topology';
import { buildPlatform } from './platform';

export const DEFAULT_TOPOLOGY = path.join(__dirname, 'topology.example.json');

/** The CDKTF app: `VOICEPLANE_TOPOLOGY` selects the topology, `VOICEPLANE_PROFILE` aws (default) or offline. */
function main(): void {
  const profile = deploymentProfileSchema.safeParse(process.env.VOICEPLANE_PROFILE ?? 'aws');
  if (!profile.success) {
    console.error(`VOICEPLANE_PROFILE: must be "aws" or "offline", got "${process.env.VOICEPLANE_PROFILE}"`);
    process.exit(1);
  }
  try {
    const topology = loadTopologyFile(process.env.VOICEPLANE_TOPOLOGY ?? DEFAULT_TOPOLOGY);
    const app = new App();
    buildPlatform(app, topology, profile.data);
    app.synth();
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

main();

import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { MediaServerClient } from '../../../runtime/media-server';
import { systemClock, systemSleep } from '../../../runtime/upgrade/clock';
import type { Release } from '../../../runtime/upgrade/deployer';
import type { FleetInventory } from '../../../runtime/upgrade/fleet-inventory';
import { launchLocalFleet, localDeployers, localFleetInventory, seedLocalRoutes } from '../../../runtime/upgrade/local-fleet';
import type { ProcessCommand } from '../../../runtime/upgrade/local-process-deployer';
import type { FreeSwitchSimulator } from '../freeswitch/freeswitch-simulator';
import { eslOptions, SIMULATOR_PASSWORD, startMediaServer } from '../media-server-fixture';

export const MEDIA_SERVER_ID = 'local/ms-1';
export const IMAGE = 'voiceplane/call-control';

export interface LocalFleet {
  readonly simulator: FreeSwitchSimulator;
  readonly inventory: FleetInventory;
  readonly runDir: string;
  /** The media server's route table as FreeSWITCH holds it now. */
  routes(): ReturnType<MediaServerClient['routes']>;
  /** Stops every call-control process and the simulator, and removes the run directory. */
  stop(): Promise<void>;
}

/** A simulated media server and real call-control processes (one per group) running `version`, all groups routed. */
export async function startLocalFleet(options: { groups?: readonly string[]; version?: string; command?: (release: Release) => ProcessCommand } = {}): Promise<LocalFleet> {
  const simulator = await startMediaServer();
  const runDir = mkdtempSync(path.join(tmpdir(), 'voiceplane-upgrade-'));
  const inventory = await localFleetInventory(
    [{ id: MEDIA_SERVER_ID, eslPort: simulator.eslPort, password: SIMULATOR_PASSWORD, groups: options.groups ?? ['blue', 'green'] }],
    runDir,
  );
  const launch = { env: process.env, command: options.command, clock: systemClock, sleep: systemSleep };
  await launchLocalFleet(inventory, { image: IMAGE, version: options.version ?? '1.0.0' }, launch);
  await seedLocalRoutes(inventory);
  return {
    simulator,
    inventory,
    runDir,
    routes: async () => {
      const client = await MediaServerClient.connect(eslOptions(simulator));
      try {
        return await client.routes();
      } finally {
        await client.close();
      }
    },
    stop: async () => {
      await Promise.all(localDeployers(inventory, launch).map((deployer) => deployer.stopAll()));
      await simulator.stop();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { MediaServerClient } from '../../../runtime/media-server';
import { systemClock, systemSleep } from '../../../runtime/shared/clock';
import type { Release } from '../../../runtime/upgrade/deployers/deployer';
import type { FleetInventory } from '../../../runtime/upgrade/inventory/fleet-inventory';
import { launchLocalFleet, localDeployers, localFleetInventory, seedLocalRoutes } from '../../../runtime/upgrade/inventory/local-fleet';
import type { ProcessCommand } from '../../../runtime/upgrade/deployers/local-process-deployer';
import type { FreeSwitchSimulator } from '../../../runtime/freeswitch-simulator/freeswitch-simulator';
import { eslOptions, startMediaServer } from '../media-server-fixture';

export const MEDIA_SERVER_ID = 'local/ms-1';
export const IMAGE = 'voiceplane/call-control';

type EslOptions = { readonly host: string; readonly port: number; readonly password: string };

export interface CallControlFleetOptions {
  /** Group ids in route order. @default ['blue', 'green'] */
  readonly groups?: readonly string[];
  /** @default '1.0.0' */
  readonly version?: string;
  /** Environment of every call-control process, the upgraded ones too. @default this process's */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly command?: (release: Release) => ProcessCommand;
}

/** Call-control processes (one per group) around a running media server, all groups routed. */
export interface CallControlFleet {
  readonly inventory: FleetInventory;
  readonly runDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The media server's route table as FreeSWITCH holds it now. */
  routes(): ReturnType<MediaServerClient['routes']>;
  /** Stops every call-control process and removes the run directory. */
  stop(): Promise<void>;
}

export interface LocalFleet extends CallControlFleet {
  readonly simulator: FreeSwitchSimulator;
}

/** Real call-control processes (one per group) running `version` on the media server at `esl`, all groups routed. */
export async function startCallControlFleet(esl: EslOptions, options: CallControlFleetOptions = {}): Promise<CallControlFleet> {
  const runDir = mkdtempSync(path.join(tmpdir(), 'voiceplane-upgrade-'));
  const inventory = await localFleetInventory([{ id: MEDIA_SERVER_ID, eslPort: esl.port, password: esl.password, groups: options.groups ?? ['blue', 'green'] }], runDir);
  const env = options.env ?? process.env;
  const launch = { env, command: options.command, clock: systemClock, sleep: systemSleep };
  await launchLocalFleet(inventory, { image: IMAGE, version: options.version ?? '1.0.0' }, launch);
  await seedLocalRoutes(inventory);
  return {
    inventory,
    runDir,
    env,
    routes: async () => {
      const client = await MediaServerClient.connect(esl);
      try {
        return await client.routes();
      } finally {
        await client.close();
      }
    },
    stop: async () => {
      await Promise.all(localDeployers(inventory, launch).map((deployer) => deployer.stopAll()));
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

/** A simulated media server with a call-control fleet around it. */
export async function startLocalFleet(options: CallControlFleetOptions = {}): Promise<LocalFleet> {
  const simulator = await startMediaServer();
  const fleet = await startCallControlFleet(eslOptions(simulator), options);
  return {
    ...fleet,
    simulator,
    stop: async () => {
      await fleet.stop();
      await simulator.stop();
    },
  };
}

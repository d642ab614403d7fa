import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '../../shared/logger';
import { systemClock, type Clock, type Sleep } from '../../shared/clock';
import type { DeployerResolver, Release } from '../deployers/deployer';
import type { EcsApi } from '../deployers/ecs-deployer';
import { inventoryPasswordSource, type EslPasswordSource, type SecretsApi } from './esl-password-source';
import { freeswitchCanaryWatcher } from './canary-watcher';
import type { FleetInventory } from '../inventory/fleet-inventory';
import { createGroupUpgradeSteps } from './group-upgrade-steps';
import type { InstanceVerifier } from './instance-verifier';
import { inventoryDeployers } from '../deployers/inventory-deployers';
import type { ProcessCommand } from '../deployers/local-process-deployer';
import { inventoryMediaServerSessions, type MediaServerSessions } from './media-server-sessions';
import type { StepSettings } from './step-settings';
import type { UpgradeStateStore } from '../state/upgrade-state-store';
import type { GroupUpgradeSteps } from '../flow/upgrade-steps';

export interface FleetUpgradeStepsOptions {
  readonly inventory: FleetInventory;
  readonly store: UpgradeStateStore;
  /** The entry point's environment: `env` password sources and local call-control processes read it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Keep one ESL connection per media server across steps (local orchestrator); Lambda connects per step. */
  readonly keepConnectionsOpen: boolean;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly log?: Logger;
  readonly settings?: Partial<StepSettings>;
  readonly verifier?: InstanceVerifier;
  /** Default: the SDK's clients, one per region. */
  readonly ecs?: (region: string) => EcsApi;
  readonly secrets?: (region: string) => SecretsApi;
  readonly localCommand?: (release: Release) => ProcessCommand;
  /** Between two `/health` checks of a canary group's member (default the canary watch's). */
  readonly canaryHealthIntervalMs?: number;
}

export interface FleetUpgradeSteps {
  readonly steps: GroupUpgradeSteps;
  readonly deployers: DeployerResolver;
  /** Wakes a drain wait when a call of the group ends (see RunUpgradeOptions.groupCallEnded). */
  readonly groupCallEnded: MediaServerSessions['groupCallEnded'];
  /** Closes the ESL connections kept open. */
  close(): Promise<void>;
}

/** ESL sessions to the inventory's media servers, with the passwords where the inventory says they are. */
export function inventoryEslSessions(options: Pick<FleetUpgradeStepsOptions, 'inventory' | 'env' | 'keepConnectionsOpen' | 'clock' | 'secrets'>): MediaServerSessions {
  return inventoryMediaServerSessions({ inventory: options.inventory, passwords: inventoryPasswords(options), keepOpen: options.keepConnectionsOpen });
}

function inventoryPasswords(options: Pick<FleetUpgradeStepsOptions, 'inventory' | 'env' | 'clock' | 'secrets'>): EslPasswordSource {
  return inventoryPasswordSource({
    inventory: options.inventory,
    env: options.env,
    secrets: options.secrets ?? ((region) => new SecretsManagerClient({ region })),
    clock: options.clock ?? systemClock,
  });
}

/** The steps wired to an inventory: its media servers (passwords as it says), its deployers, the given store. */
export function createFleetUpgradeSteps(options: FleetUpgradeStepsOptions): FleetUpgradeSteps {
  const clock = options.clock ?? systemClock;
  const passwords = inventoryPasswords(options);
  const mediaServers = inventoryMediaServerSessions({ inventory: options.inventory, passwords, keepOpen: options.keepConnectionsOpen });
  const deployers = inventoryDeployers({ inventory: options.inventory, env: options.env, ecs: options.ecs, localCommand: options.localCommand });
  const steps = createGroupUpgradeSteps({
    inventory: options.inventory,
    store: options.store,
    mediaServers,
    deployers,
    verifier: options.verifier,
    clock,
    sleep: options.sleep,
    log: options.log,
    settings: options.settings,
    canaryWatcher: freeswitchCanaryWatcher({ inventory: options.inventory, passwords, clock, healthIntervalMs: options.canaryHealthIntervalMs }),
    // A process that keeps connections keeps a canary step's watch too; one that connects per step watches per check.
    canaryWatchScope: options.keepConnectionsOpen ? 'run' : 'check',
  });
  return { steps, deployers, groupCallEnded: (mediaServerId, groupId, signal) => mediaServers.groupCallEnded(mediaServerId, groupId, signal), close: () => mediaServers.close() };
}

import { ECSClient } from '@aws-sdk/client-ecs';
import type { DeployerResolver, GroupDeployer, Release } from './deployer';
import { EcsDeployer, type EcsApi } from './ecs-deployer';
import { inventoryGroup, type FleetInventory } from '../inventory/fleet-inventory';
import { LocalProcessDeployer, type ProcessCommand } from './local-process-deployer';

export interface InventoryDeployersOptions {
  readonly inventory: FleetInventory;
  /** Environment of local call-control processes. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** An ECS client for a region (default: the SDK's, created once per region). */
  readonly ecs?: (region: string) => EcsApi;
  /** How local processes run a release (default: the reference call-control service). */
  readonly localCommand?: (release: Release) => ProcessCommand;
}

/** One deployer per group, of the kind the inventory gives it. */
export function inventoryDeployers(options: InventoryDeployersOptions): DeployerResolver {
  const ecsClients = new Map<string, EcsApi>();
  const deployers = new Map<string, GroupDeployer>();
  const ecsClient = (region: string): EcsApi => {
    let client = ecsClients.get(region);
    if (client === undefined) {
      client = options.ecs?.(region) ?? new ECSClient({ region });
      ecsClients.set(region, client);
    }
    return client;
  };
  return (mediaServerId, groupId) => {
    const cacheKey = `${mediaServerId}\n${groupId}`;
    const cached = deployers.get(cacheKey);
    if (cached !== undefined) return cached;
    const { deployment } = inventoryGroup(options.inventory, mediaServerId, groupId);
    const deployer =
      deployment.kind === 'ecs'
        ? new EcsDeployer(ecsClient(deployment.region), deployment, options.inventory.allowedImageRepositories)
        : new LocalProcessDeployer({ mediaServerId, groupId, deployment, env: options.env, command: options.localCommand });
    deployers.set(cacheKey, deployer);
    return deployer;
  };
}

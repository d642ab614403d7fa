import type { RouteTable } from '../../dialplan';
import { MediaServerClient } from '../../media-server';
import type { Clock, Sleep } from '../../shared/clock';
import type { Release } from '../deployers/deployer';
import type { FleetInventory, InventoryMediaServer } from './fleet-inventory';
import { reservePorts } from '../../net/free-port';
import { LocalProcessDeployer, type ProcessCommand } from '../deployers/local-process-deployer';

/** A fleet of local call-control processes around already running media servers (the demo, tests, benchmarks). */

export interface LocalMediaServerSpec {
  readonly id: string;
  readonly eslPort: number;
  readonly password: string;
  /** Group ids in route order, and members per group. */
  readonly groups: readonly string[];
  readonly membersPerGroup?: number;
}

/** An inventory of local groups on free ports of 127.0.0.1, recorded in `runDir`. */
export async function localFleetInventory(mediaServers: readonly LocalMediaServerSpec[], runDir: string): Promise<FleetInventory> {
  const needed = mediaServers.reduce((sum, spec) => sum + spec.groups.length * (spec.membersPerGroup ?? 1) * 2, 0);
  const ports = await reservePorts(needed);
  let next = 0;
  return {
    mediaServers: mediaServers.map((spec) => ({
      id: spec.id,
      esl: { host: '127.0.0.1', port: spec.eslPort },
      eslPassword: { source: 'literal', value: spec.password },
      groups: spec.groups.map((groupId) => ({
        id: groupId,
        deployment: {
          kind: 'local',
          host: '127.0.0.1',
          runDir,
          instances: Array.from({ length: spec.membersPerGroup ?? 1 }, () => ({ eslPort: ports[next++], healthPort: ports[next++] })),
        },
      })),
    })),
  };
}

export interface LaunchOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly command?: (release: Release) => ProcessCommand;
  readonly clock: Clock;
  readonly sleep: Sleep;
  /** Give up when a group's processes are not listening after this long (default 30 000 ms). */
  readonly timeoutMs?: number;
}

/** The local deployers of every local group of the inventory. */
export function localDeployers(inventory: FleetInventory, options: Pick<LaunchOptions, 'env' | 'command' | 'sleep'>): LocalProcessDeployer[] {
  return inventory.mediaServers.flatMap((mediaServer) =>
    mediaServer.groups.flatMap((group) =>
      group.deployment.kind === 'local'
        ? [
            new LocalProcessDeployer({
              mediaServerId: mediaServer.id,
              groupId: group.id,
              deployment: group.deployment,
              env: options.env,
              command: options.command,
              sleep: options.sleep,
            }),
          ]
        : [],
    ),
  );
}

/** Starts `release` in every local group and waits until every process listens. */
export async function launchLocalFleet(inventory: FleetInventory, release: Release, options: LaunchOptions): Promise<LocalProcessDeployer[]> {
  const deployers = localDeployers(inventory, options);
  const timeoutMs = options.timeoutMs ?? 30_000;
  await Promise.all(
    deployers.map(async (deployer) => {
      const deploymentId = await deployer.start(release);
      const startedAt = options.clock.now();
      for (;;) {
        const check = await deployer.status(deploymentId);
        if (check.complete) return;
        if (check.failed || options.clock.now() - startedAt > timeoutMs) throw new Error(`could not launch ${release.version}: ${check.detail}`);
        await options.sleep(50);
      }
    }),
  );
  return deployers;
}

/** The route table naming every local group of the media server with its members, all active, in inventory order. */
export function localRouteTable(mediaServer: InventoryMediaServer): RouteTable {
  return {
    groups: mediaServer.groups.flatMap(({ id, deployment }) =>
      deployment.kind === 'local' ? [{ id, state: 'active' as const, endpoints: deployment.instances.map((instance) => ({ host: deployment.host, port: instance.eslPort })) }] : [],
    ),
  };
}

/** Writes `localRouteTable` to each media server of the inventory (literal passwords only: local fleets). */
export async function seedLocalRoutes(inventory: FleetInventory): Promise<void> {
  for (const mediaServer of inventory.mediaServers) {
    if (mediaServer.eslPassword.source !== 'literal') throw new Error(`${mediaServer.id}: a local fleet uses literal ESL passwords`);
    const client = await MediaServerClient.connect({ host: mediaServer.esl.host, port: mediaServer.esl.port, password: mediaServer.eslPassword.value });
    try {
      await client.setRoutes(localRouteTable(mediaServer));
    } finally {
      await client.close();
    }
  }
}

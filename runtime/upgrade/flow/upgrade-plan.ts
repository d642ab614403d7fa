import type { FleetInventory, InventoryMediaServer } from '../inventory/fleet-inventory';
import type { UpgradeRequest } from '../request/upgrade-request';
import { UpgradeStepError, type GroupUpgradeTarget } from './upgrade-steps';

/** One media server's part of an upgrade: its groups in blue-green order. */
export interface MediaServerPlan {
  readonly mediaServerId: string;
  readonly targets: readonly GroupUpgradeTarget[];
}

/** An upgrade expanded over the fleet: media servers in parallel, at most `concurrency` at once (the state machine takes it compacted, see state-machine-plan.ts). */
export interface UpgradePlan {
  readonly upgradeId: string;
  readonly concurrency: number;
  readonly mediaServers: readonly MediaServerPlan[];
}

/**
 * Expands a request over the inventory (pure). Throws `InvalidInput` listing every problem: unknown media
 * servers, groups no selected media server has, and media servers where upgrading would leave no routable
 * group (fewer than two groups: while the only one drains, nothing could take a new call).
 */
export function planUpgrade(request: UpgradeRequest, inventory: FleetInventory, upgradeId: string, runId?: string): UpgradePlan {
  const problems: string[] = [];
  const selected = selectMediaServers(request, inventory, problems);
  const plans: MediaServerPlan[] = [];
  for (const mediaServer of selected) {
    const known = new Set(mediaServer.groups.map((group) => group.id));
    const groups = request.groups.filter((groupId) => known.has(groupId));
    const explicit = request.mediaServers !== 'all';
    if (explicit) {
      const missing = request.groups.filter((groupId) => !known.has(groupId));
      if (missing.length > 0) problems.push(`media server ${mediaServer.id} has no group ${missing.map(quote).join(', ')} (groups: ${[...known].join(', ')})`);
    }
    if (groups.length === 0) continue;
    if (mediaServer.groups.length < 2) {
      problems.push(`media server ${mediaServer.id} has only group ${quote(mediaServer.groups[0].id)}: draining it would leave no routable group`);
      continue;
    }
    plans.push({ mediaServerId: mediaServer.id, targets: groups.map((groupId) => targetOf(request, upgradeId, runId, mediaServer.id, groupId)) });
  }
  if (request.mediaServers === 'all') {
    const everywhere = new Set(inventory.mediaServers.flatMap((mediaServer) => mediaServer.groups.map((group) => group.id)));
    const unknown = request.groups.filter((groupId) => !everywhere.has(groupId));
    if (unknown.length > 0) problems.push(`no media server has group ${unknown.map(quote).join(', ')}`);
  }
  if (problems.length > 0) throw new UpgradeStepError('InvalidInput', `upgrade plan: ${problems.join('; ')}`);
  return { upgradeId, concurrency: request.concurrency, mediaServers: plans };
}

function selectMediaServers(request: UpgradeRequest, inventory: FleetInventory, problems: string[]): InventoryMediaServer[] {
  if (request.mediaServers === 'all') return inventory.mediaServers;
  const byId = new Map(inventory.mediaServers.map((mediaServer) => [mediaServer.id, mediaServer]));
  const unknown = request.mediaServers.filter((id) => !byId.has(id));
  if (unknown.length > 0) problems.push(`unknown media server ${unknown.map(quote).join(', ')} (inventory: ${[...byId.keys()].join(', ')})`);
  return request.mediaServers.flatMap((id) => byId.get(id) ?? []);
}

function targetOf(request: UpgradeRequest, upgradeId: string, runId: string | undefined, mediaServerId: string, groupId: string): GroupUpgradeTarget {
  return {
    upgradeId,
    mediaServerId,
    groupId,
    image: request.image,
    version: request.version,
    maxDrainSeconds: request.maxDrainSeconds,
    onDrainTimeout: request.onDrainTimeout,
    ...(runId === undefined ? {} : { runId }),
    ...(request.canary === undefined ? {} : { canary: request.canary }),
  };
}

const quote = (value: string) => JSON.stringify(value);

import type { Clock } from '../../shared/clock';
import { startCanaryWatch, type CanaryObservation, type CanaryPolicy } from '../canary';
import { inventoryMediaServer, type FleetInventory } from '../inventory/fleet-inventory';
import type { GroupUpgradeTarget } from '../flow/upgrade-steps';
import type { EslPasswordSource } from './esl-password-source';

/** A watch of one canary group's calls: what it saw since it started. */
export interface GroupWatch {
  observation(): CanaryObservation;
  stop(): Promise<void>;
}

/** Starts watches of canary groups: the port the upgrade steps observe a canary through. */
export interface CanaryWatcher {
  /** Watches the target group's calls on its media server, and its members' `/health` at `healthUrls`. */
  watch(target: GroupUpgradeTarget, policy: CanaryPolicy, healthUrls: readonly string[]): Promise<GroupWatch>;
}

export interface FreeswitchCanaryWatcherOptions {
  /** Where each media server's event socket is. */
  readonly inventory: FleetInventory;
  readonly passwords: EslPasswordSource;
  readonly clock: Clock;
  /** Between two `/health` checks of a member. @default the watch's (5 000 ms) */
  readonly healthIntervalMs?: number;
}

/**
 * Watches from what FreeSWITCH reports of the group's calls (hangup causes, short calls, failed call-control
 * connections, on an event connection of the watch's own) and the group members' `/health`.
 */
export function freeswitchCanaryWatcher(options: FreeswitchCanaryWatcherOptions): CanaryWatcher {
  return {
    async watch(target, policy, healthUrls) {
      const { esl } = inventoryMediaServer(options.inventory, target.mediaServerId);
      return startCanaryWatch({
        mediaServers: [{ id: target.mediaServerId, esl: { host: esl.host, port: esl.port, password: await options.passwords.password(target.mediaServerId) } }],
        groupId: target.groupId,
        healthUrls,
        shortCallSeconds: policy.thresholds.shortCallSeconds,
        clock: options.clock,
        ...(options.healthIntervalMs === undefined ? {} : { healthIntervalMs: options.healthIntervalMs }),
      });
    },
  };
}

import axios from 'axios';
import { systemClock, systemSleep, type Clock, type Sleep } from '../../../runtime/shared/clock';
import type { Release } from '../../../runtime/upgrade/deployers/deployer';
import { createFleetUpgradeSteps } from '../../../runtime/upgrade/steps/fleet-upgrade-steps';
import type { ProcessCommand } from '../../../runtime/upgrade/deployers/local-process-deployer';
import type { StepSettings } from '../../../runtime/upgrade/steps/step-settings';
import { runUpgrade } from '../../../runtime/upgrade/flow/upgrade-orchestrator';
import type { UpgradeProgress, UpgradeSummary } from '../../../runtime/upgrade/progress/upgrade-progress';
import { parseUpgradeRequest, type UpgradeRequestInput } from '../../../runtime/upgrade/request/upgrade-request';
import type { DynamoUpgradeStateStore, UpgradeStateStore } from '../../../runtime/upgrade/state/upgrade-state-store';
import { type CallControlFleet, IMAGE, MEDIA_SERVER_ID } from './local-fleet-fixture';
import type { StateTable } from './state-table-fixture';

export interface HarnessRun {
  readonly summary: UpgradeSummary;
  readonly progress: readonly UpgradeProgress[];
  readonly store: DynamoUpgradeStateStore;
}

export interface HarnessOptions {
  readonly upgradeId: string;
  readonly request?: Partial<UpgradeRequestInput>;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly pollMs?: number;
  /** Wake drain waits when a call of the group ends (as the CLI does), not only at each poll. */
  readonly wakeOnCallEnd?: boolean;
  readonly settings?: Partial<StepSettings>;
  readonly command?: (release: Release) => ProcessCommand;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: UpgradeProgress) => void;
  /** Puts something in front of the store the run uses (e.g. another run writing just before one of its writes). */
  readonly store?: (store: UpgradeStateStore) => UpgradeStateStore;
}

/** Test-sized step settings: a short settle delay and quick verification retries. */
export const FAST_STEPS: Partial<StepSettings> = { drainSettleMs: 300, verifyRetryMs: 200, rollbackPollMs: 100, drainSampleIntervalMs: 1_000 };

/** Runs an upgrade of the fleet's media server with the real steps, orchestrator and store. */
export async function upgradeFleet(fleet: CallControlFleet, table: StateTable, options: HarnessOptions): Promise<HarnessRun> {
  const clock = options.clock ?? systemClock;
  const store = table.store(clock);
  const runStore = options.store?.(store) ?? store;
  const request = parseUpgradeRequest({ image: IMAGE, version: '1.1.0', groups: ['blue', 'green'], mediaServers: [MEDIA_SERVER_ID], ...options.request });
  const fleetSteps = createFleetUpgradeSteps({
    inventory: fleet.inventory,
    store: runStore,
    env: fleet.env,
    keepConnectionsOpen: true,
    clock,
    sleep: options.sleep ?? systemSleep,
    settings: { ...FAST_STEPS, ...options.settings },
    localCommand: options.command,
  });
  const progress: UpgradeProgress[] = [];
  try {
    const summary = await runUpgrade({
      request,
      inventory: fleet.inventory,
      upgradeId: options.upgradeId,
      steps: fleetSteps.steps,
      store: runStore,
      clock,
      sleep: options.sleep,
      pollMs: options.pollMs ?? 100,
      groupCallEnded: options.wakeOnCallEnd ? fleetSteps.groupCallEnded : undefined,
      signal: options.signal,
      retryIntervalMs: 100,
      onProgress: (event) => {
        progress.push(event);
        options.onProgress?.(event);
      },
    });
    return { summary, progress, store };
  } finally {
    await fleetSteps.close();
  }
}

/** What each group's members report on /health. */
export async function groupHealth(fleet: CallControlFleet, groupId: string): Promise<unknown[]> {
  const group = fleet.inventory.mediaServers[0].groups.find((candidate) => candidate.id === groupId);
  if (group?.deployment.kind !== 'local') throw new Error(`no local group ${groupId}`);
  const { host } = group.deployment;
  return Promise.all(group.deployment.instances.map(async (instance) => (await axios.get(`http://${host}:${instance.healthPort}/health`, { validateStatus: () => true })).data));
}

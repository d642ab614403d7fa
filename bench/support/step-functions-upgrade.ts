/**
 * The upgrade benchmark's Step Functions path: the state machine lib/ deploys (`buildUpgradeStateMachine`,
 * its 10 s Wait states kept as they are) run by aws-local-stepfunctions over the Lambda task handlers,
 * each step connecting to its media server and closing again as a Lambda invocation does (no kept
 * connection, so no wake on hangup: a drain is seen at the next 10 s poll).
 */
import { systemClock, systemSleep } from '../../runtime/shared/clock';
import type { GroupDeployer } from '../../runtime/upgrade/deployers/deployer';
import type { FleetInventory } from '../../runtime/upgrade/inventory/fleet-inventory';
import { createUpgradeTaskHandlers } from '../../runtime/upgrade/flow/upgrade-task-handlers';
import { inventoryPasswordSource } from '../../runtime/upgrade/steps/esl-password-source';
import { createGroupUpgradeSteps } from '../../runtime/upgrade/steps/group-upgrade-steps';
import { inventoryMediaServerSessions } from '../../runtime/upgrade/steps/media-server-sessions';
import type { UpgradeStateStore } from '../../runtime/upgrade/state/upgrade-state-store';
import { runStateMachineLocally } from '../../test/support/upgrade/state-machine-runner';

/** The state machine's poll interval as lib/ deploys it by default. */
export const STEP_FUNCTIONS_POLL_MS = 10_000;

export interface StepFunctionsUpgradeOptions {
  readonly inventory: FleetInventory;
  readonly store: UpgradeStateStore;
  readonly deployers: (mediaServerId: string, groupId: string) => GroupDeployer;
  /** The execution's input, as an operator starts it. */
  readonly request: Record<string, unknown>;
  /** The execution name: the upgrade id. */
  readonly executionName: string;
}

export async function runStepFunctionsUpgrade(options: StepFunctionsUpgradeOptions): Promise<unknown> {
  const { inventory, store } = options;
  const mediaServers = inventoryMediaServerSessions({
    inventory,
    passwords: inventoryPasswordSource({ inventory, env: {}, secrets: () => ({ send: async () => ({ $metadata: {} }) }), clock: systemClock }),
    keepOpen: false,
  });
  const steps = createGroupUpgradeSteps({ inventory, store, mediaServers, deployers: options.deployers, clock: systemClock, sleep: systemSleep });
  const handlers = createUpgradeTaskHandlers({ steps, store, inventory, clock: systemClock });
  try {
    return await runStateMachineLocally(handlers, options.request, { executionName: options.executionName, pollMs: STEP_FUNCTIONS_POLL_MS }).result;
  } finally {
    await mediaServers.close();
  }
}

/**
 * What the 10 s polls cost one group beyond its natural drain: the drain is seen at the first poll after
 * it ended (up to one interval late, none when no call was left), and the rollout at the first poll after
 * `Deploy` (one interval: the bench's deployment completes at once).
 */
export function pollOverheadMs(naturalDrainMs: number, pollMs: number = STEP_FUNCTIONS_POLL_MS): number {
  const drainSeenAt = Math.max(1, Math.ceil(naturalDrainMs / pollMs)) * pollMs;
  return drainSeenAt - naturalDrainMs + pollMs;
}

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
/** Its first drain check after the drain write, by default (the steps' drain settle). */
export const STEP_FUNCTIONS_FIRST_POLL_MS = 2_000;

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
    return await runStateMachineLocally(handlers, options.request, { executionName: options.executionName, pollMs: STEP_FUNCTIONS_POLL_MS, firstPollMs: STEP_FUNCTIONS_FIRST_POLL_MS }).result;
  } finally {
    await mediaServers.close();
  }
}

/**
 * What the polls cost one group beyond its natural drain: the drain is seen at the first check after it
 * ended, the first `firstPollMs` after the drain write and then every `pollMs` (up to one interval late);
 * the rollout is checked at once after `Deploy` (nothing: the bench's deployment completes within it).
 */
export function pollOverheadMs(naturalDrainMs: number, pollMs: number = STEP_FUNCTIONS_POLL_MS, firstPollMs: number = STEP_FUNCTIONS_FIRST_POLL_MS): number {
  const drainSeenAt = firstPollMs + Math.max(0, Math.ceil((naturalDrainMs - firstPollMs) / pollMs)) * pollMs;
  return drainSeenAt - naturalDrainMs;
}

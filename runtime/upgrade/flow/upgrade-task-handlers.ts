import { z } from 'zod';
import type { Clock } from '../../shared/clock';
import type { FleetInventory } from '../inventory/fleet-inventory';
import { parseGroupUpgradeTarget } from '../request/group-upgrade-target';
import { parseInput } from '../request/input-error';
import { newRunId, newUpgradeId } from '../request/upgrade-id';
import { planUpgrade } from './upgrade-plan';
import { stateMachinePlan, type StateMachinePlan } from './state-machine-plan';
import { registerUpgrade } from './upgrade-registration';
import { parseUpgradeRequest, upgradeIdSchema } from '../request/upgrade-request';
import type { UpgradeTaskName } from './upgrade-state-machine';
import type { UpgradeStateStore } from '../state/upgrade-state-store';
import type { GroupUpgradeSteps } from './upgrade-steps';

export interface UpgradeTaskContext {
  readonly steps: GroupUpgradeSteps;
  readonly store: UpgradeStateStore;
  readonly inventory: FleetInventory;
  readonly clock: Clock;
}

/** One function per task of the state machine; each validates its input before anything else. */
export type UpgradeTaskHandlers = Readonly<Record<UpgradeTaskName, (input: unknown) => Promise<unknown>>>;

const planInputSchema = z.strictObject({
  request: z.unknown(),
  /** The Step Functions execution name: the upgrade id when the request names none. */
  executionName: upgradeIdSchema.optional(),
});

const preflightInputSchema = z.strictObject({
  target: z.unknown(),
  /** The lease an earlier run of the upgrade held when preflight last looked (null at first). */
  earlierRun: z.strictObject({ owner: z.string().min(1), leaseUntil: z.number().int().nonnegative() }).nullable().default(null),
});

const rollbackInputSchema = z.strictObject({ target: z.unknown(), cause: z.string().max(32_768).default('unknown failure') });

const lambdaErrorSchema = z.object({ errorMessage: z.string() });

/**
 * The message of a caught error's `Cause`: Step Functions passes a Lambda function's error as the JSON
 * it reported (`{"errorType", "errorMessage", "trace"}`), the local runner as the message itself; the
 * audit trail records the message either way.
 */
function causeMessage(cause: string): string {
  try {
    const parsed = lambdaErrorSchema.safeParse(JSON.parse(cause));
    return parsed.success ? parsed.data.errorMessage : cause;
  } catch {
    return cause;
  }
}

/** The Step Functions tasks over the group steps: the shape of their input and output is the state machine's contract. */
export function createUpgradeTaskHandlers(context: UpgradeTaskContext): UpgradeTaskHandlers {
  const { steps } = context;
  const done = {};
  return {
    plan: async (input): Promise<StateMachinePlan> => {
      const { request: requestInput, executionName } = parseInput(planInputSchema, input, 'plan input');
      const request = parseUpgradeRequest(requestInput, context.inventory.allowedImageRepositories);
      const upgradeId = request.upgradeId ?? executionName ?? newUpgradeId(context.clock.now());
      // Every execution is a run of its own: a second live execution of the same upgrade cannot take its lease.
      const plan = stateMachinePlan(planUpgrade(request, context.inventory, upgradeId, newRunId()));
      await registerUpgrade(context.store, upgradeId, request);
      return plan;
    },
    preflight: async (input) => {
      const { target, earlierRun } = parseInput(preflightInputSchema, input, 'preflight input');
      return steps.preflight(parseGroupUpgradeTarget(target), earlierRun);
    },
    drain: async (input) => (await steps.drain(parseGroupUpgradeTarget(input)), done),
    checkDrain: (input) => steps.checkDrain(parseGroupUpgradeTarget(input)),
    forceEndCalls: async (input) => ({ endedCalls: await steps.forceEndCalls(parseGroupUpgradeTarget(input)) }),
    abortDrain: async (input) => (await steps.abortDrain(parseGroupUpgradeTarget(input)), done),
    deploy: async (input) => (await steps.deploy(parseGroupUpgradeTarget(input)), done),
    checkDeployment: (input) => steps.checkDeployment(parseGroupUpgradeTarget(input)),
    verify: async (input) => (await steps.verify(parseGroupUpgradeTarget(input)), done),
    openCanary: async (input) => (await steps.openCanary(parseGroupUpgradeTarget(input)), done),
    checkCanary: (input) => steps.checkCanary(parseGroupUpgradeTarget(input)),
    restore: async (input) => (await steps.restore(parseGroupUpgradeTarget(input)), done),
    rollback: async (input) => {
      const { target, cause } = parseInput(rollbackInputSchema, input, 'rollback input');
      return { phase: await steps.rollback(parseGroupUpgradeTarget(target), causeMessage(cause)) };
    },
  };
}

import { readFileSync } from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { jsonLinesLogger } from '../shared/logger';
import { systemClock } from '../shared/clock';
import { createFleetUpgradeSteps } from '../upgrade/steps/fleet-upgrade-steps';
import { parseFleetInventory } from '../upgrade/inventory/fleet-inventory';
import { createDocumentClient } from '../dynamodb/document-client';
import { DynamoUpgradeStateStore } from '../upgrade/state/upgrade-state-store';
import { storePublishingAuditMetrics } from '../upgrade/state/audit-metrics';
import { createUpgradeTaskHandlers, type UpgradeTaskHandlers } from '../upgrade/flow/upgrade-task-handlers';

/**
 * Lambda entry points of the upgrade state machine, one export per task (`index.<task>`). The
 * package ships the fleet inventory generated at synth; the environment names the state table.
 */

const environmentSchema = z.object({
  STATE_TABLE: z.string({ error: 'is required' }).min(3, 'must be a table name'),
  FLEET_INVENTORY_FILE: z.string().default('fleet-inventory.json'),
  AWS_REGION: z.string({ error: 'is required' }).min(1),
  /** Only for running the handlers against a local DynamoDB. */
  DYNAMODB_ENDPOINT: z.url().optional(),
});

function handlersFromEnvironment(env: NodeJS.ProcessEnv): UpgradeTaskHandlers {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new Error(`environment ${issue.path.join('.')}: ${issue.message}`);
  }
  const config = parsed.data;
  const inventory = parseFleetInventory(JSON.parse(readFileSync(path.join(__dirname, config.FLEET_INVENTORY_FILE), 'utf8')));
  const tableStore = new DynamoUpgradeStateStore({
    client: createDocumentClient({ region: config.AWS_REGION, endpoint: config.DYNAMODB_ENDPOINT }),
    tableName: config.STATE_TABLE,
    clock: systemClock,
  });
  // Lambda's stdout is the function's log group: CloudWatch turns the EMF lines there into metrics.
  const store = storePublishingAuditMetrics(tableStore, (line) => process.stdout.write(line), systemClock);
  // A Lambda invocation is one step: connect per step, never hold ESL connections across invocations.
  const { steps } = createFleetUpgradeSteps({ inventory, store, env, keepConnectionsOpen: false, log: jsonLinesLogger() });
  return createUpgradeTaskHandlers({ steps, store, inventory, clock: systemClock });
}

let handlers: UpgradeTaskHandlers | undefined;
const task =
  (name: keyof UpgradeTaskHandlers) =>
  (input: unknown): Promise<unknown> => {
    handlers ??= handlersFromEnvironment(process.env);
    return handlers[name](input);
  };

export const plan = task('plan');
export const preflight = task('preflight');
export const drain = task('drain');
export const checkDrain = task('checkDrain');
export const forceEndCalls = task('forceEndCalls');
export const abortDrain = task('abortDrain');
export const deploy = task('deploy');
export const checkDeployment = task('checkDeployment');
export const verify = task('verify');
export const openCanary = task('openCanary');
export const checkCanary = task('checkCanary');
export const restore = task('restore');
export const rollback = task('rollback');

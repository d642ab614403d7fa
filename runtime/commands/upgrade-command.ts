import { readFileSync } from 'fs';
import type { Logger } from '../shared/logger';
import { systemClock, systemSleep, type Clock, type Sleep } from '../shared/clock';
import { parseFleetInventory, type FleetInventory } from '../upgrade/inventory/fleet-inventory';
import { createFleetUpgradeSteps, inventoryEslSessions } from '../upgrade/steps/fleet-upgrade-steps';
import { formatPath } from '../validation/zod-issues';
import { progressPrinter } from '../upgrade/progress/progress-printer';
import { newUpgradeId } from '../upgrade/request/upgrade-id';
import { runUpgrade } from '../upgrade/flow/upgrade-orchestrator';
import { planUpgrade, type UpgradePlan } from '../upgrade/flow/upgrade-plan';
import { upgradeRequestSchemaAllowing, type UpgradeRequest } from '../upgrade/request/upgrade-request';
import { DynamoUpgradeStateStore } from '../upgrade/state/upgrade-state-store';
import { UpgradeStepError } from '../upgrade/flow/upgrade-steps';
import { canaryPolicyFromFlags, type CanaryPolicy } from '../upgrade/canary';
import { describeCanaryPolicy, previewLines, previewUpgrade } from '../upgrade/report/upgrade-preview';
import { CliError, UsageError } from './cli-error';
import { openUpgradeState, type UpgradeStateOptionValues } from './upgrade-state-options';
import type { Output } from './output';

export interface UpgradeOptionValues extends UpgradeStateOptionValues {
  readonly inventory?: string;
  readonly 'media-server'?: readonly string[];
  readonly group?: readonly string[];
  readonly image?: string;
  readonly version?: string;
  readonly 'max-drain-seconds'?: string;
  readonly 'on-timeout'?: string;
  readonly concurrency?: string;
  readonly 'upgrade-id'?: string;
  /** `5,25`: canary shares of new calls, and `120s` / `200calls`: how long each holds. */
  readonly canary?: string;
  readonly 'canary-hold'?: string;
  /** Show what the upgrade would do (and the calls now on each group), change nothing. */
  readonly plan?: boolean;
  readonly json?: boolean;
}

export interface UpgradeCommandContext {
  readonly stdout: Output;
  /** The CLI's environment: `env` password sources, AWS_REGION, and the environment of local call-control processes. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdout is a terminal: a live table instead of one line per change. */
  readonly isTty: boolean;
  /** Aborting stops between two steps; the upgrade can be resumed with its id. */
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  /** Between two drain or deployment checks (default 1 000 ms). */
  readonly pollMs?: number;
  /** How long a media server's lease outlives its last renewal: a run resuming after a crash waits up to this long (default: the step settings'). */
  readonly leaseTtlMs?: number;
  readonly log?: Logger;
}

/** Request fields as the options that set them, for error messages. */
const OPTION_OF_FIELD: Readonly<Record<string, string>> = {
  upgradeId: '--upgrade-id',
  image: '--image',
  version: '--version',
  groups: '--group',
  mediaServers: '--media-server',
  maxDrainSeconds: '--max-drain-seconds',
  onDrainTimeout: '--on-timeout',
  concurrency: '--concurrency',
};

/**
 * `voiceplane upgrade`: validates everything (options, inventory, plan) before touching anything, then runs
 * the upgrade with the same steps as Step Functions. Resolves 0 when every media server was upgraded, 1
 * otherwise; throws UsageError (exit 2) for bad input and CliError for a run that could not start.
 */
export async function runUpgradeCommand(values: UpgradeOptionValues, context: UpgradeCommandContext): Promise<number> {
  const clock = context.clock ?? systemClock;
  const inventory = loadInventory(values.inventory);
  const request = requestFromOptions(values, inventory.allowedImageRepositories);
  const upgradeId = request.upgradeId ?? newUpgradeId(clock.now());
  const plan = planOrThrow(request, inventory, upgradeId);
  if (values.plan) return showPlan(plan, request, inventory, context, values.json === true);
  const state = await openUpgradeState(values, context.env);
  const store = new DynamoUpgradeStateStore({ client: state.client, tableName: state.tableName, clock });
  const fleet = createFleetUpgradeSteps({
    inventory,
    store,
    env: context.env,
    keepConnectionsOpen: true,
    clock,
    sleep: context.sleep ?? systemSleep,
    log: context.log,
    settings: context.leaseTtlMs === undefined ? undefined : { leaseTtlMs: context.leaseTtlMs },
  });
  const printer = progressPrinter(context.stdout, values.json ? 'json' : context.isTty ? 'tty' : 'plain', clock);
  try {
    announce(context.stdout, plan, request, values.json === true);
    const summary = await runUpgrade({
      request,
      inventory,
      upgradeId,
      steps: fleet.steps,
      store,
      clock,
      sleep: context.sleep,
      pollMs: context.pollMs,
      groupCallEnded: fleet.groupCallEnded,
      signal: context.signal,
      onProgress: (progress) => printer.progress(progress),
    });
    printer.summary(summary);
    return summary.status === 'succeeded' ? 0 : 1;
  } catch (error) {
    if (error instanceof UpgradeStepError) throw new CliError(error.message);
    throw error;
  } finally {
    await fleet.close();
    await state.close();
  }
}

/** `upgrade --plan`: the plan with each media server's routes and calls now; 1 if a media server cannot be reached. */
async function showPlan(plan: UpgradePlan, request: UpgradeRequest, inventory: FleetInventory, context: UpgradeCommandContext, json: boolean): Promise<number> {
  const previews = await previewUpgrade(plan, inventoryEslSessions({ inventory, env: context.env, keepConnectionsOpen: false, clock: context.clock }));
  if (json) {
    const { maxDrainSeconds, onDrainTimeout } = request;
    context.stdout.line(planJson(plan, request, { drainPolicy: { maxDrainSeconds, onDrainTimeout }, mediaServers: previews }));
  } else {
    previewLines(plan, request, previews).forEach((line) => context.stdout.line(line));
  }
  return previews.some((preview) => 'unreachable' in preview) ? 1 : 0;
}

function loadInventory(file: string | undefined): FleetInventory {
  if (file === undefined) throw new UsageError('--inventory: required (a fleet inventory JSON file)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--inventory: cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--inventory: ${file} is not JSON: ${(error as Error).message}`);
  }
  try {
    return parseFleetInventory(json);
  } catch (error) {
    throw new UsageError(`--inventory: ${file}: ${(error as Error).message}`);
  }
}

/** The request the options describe, its image one of the inventory's allowed repositories (if it lists any); every bad option is named in one line. */
export function requestFromOptions(values: UpgradeOptionValues, allowedImageRepositories?: readonly string[]): UpgradeRequest {
  const mediaServers = values['media-server'] ?? [];
  const canary = canaryFromOptions(values);
  const number = (text: string | undefined) => (text === undefined ? undefined : /^[0-9]{1,9}$/.test(text) ? Number(text) : text);
  const input = {
    ...(values['upgrade-id'] === undefined ? {} : { upgradeId: values['upgrade-id'] }),
    image: values.image,
    version: values.version,
    groups: values.group ?? [],
    mediaServers: mediaServers.length === 1 && mediaServers[0] === 'all' ? 'all' : mediaServers,
    maxDrainSeconds: number(values['max-drain-seconds']),
    onDrainTimeout: values['on-timeout'],
    concurrency: number(values.concurrency),
    ...(typeof canary === 'object' ? { canary } : {}),
  };
  const parsed = upgradeRequestSchemaAllowing(allowedImageRepositories).safeParse(input);
  if (parsed.success && typeof canary !== 'string') return parsed.data;
  const issues = parsed.success ? [] : parsed.error.issues;
  const problems = issues.map((issue) => {
    const [field, ...rest] = issue.path;
    const option = OPTION_OF_FIELD[String(field)] ?? String(field);
    const index = rest.length > 0 ? ` ${formatPath(rest)}` : '';
    const message = issue.message === 'must be text' ? 'required' : issue.message;
    return `${option}${index}: ${message}`;
  });
  throw new UsageError([...problems, ...(typeof canary === 'string' ? [canary] : [])].join('; '));
}

/** The canary policy `--canary` and `--canary-hold` give (undefined without them), or what is wrong with them. */
function canaryFromOptions(values: UpgradeOptionValues): CanaryPolicy | undefined | string {
  try {
    return canaryPolicyFromFlags({ canary: values.canary, canaryHold: values['canary-hold'] });
  } catch (error) {
    if (error instanceof UpgradeStepError) return error.message;
    throw error;
  }
}

function planOrThrow(request: UpgradeRequest, inventory: FleetInventory, upgradeId: string): UpgradePlan {
  try {
    return planUpgrade(request, inventory, upgradeId);
  } catch (error) {
    if (error instanceof UpgradeStepError) throw new UsageError(error.message);
    throw error;
  }
}

/** The `plan` line of `--json` output: what is upgraded to what, with `details` (the media servers, and more for `--plan`). */
function planJson(plan: UpgradePlan, request: UpgradeRequest, details: Record<string, unknown>): string {
  const { image, version, canary } = request;
  return JSON.stringify({ type: 'plan', upgradeId: plan.upgradeId, image, version, concurrency: plan.concurrency, ...details, ...(canary === undefined ? {} : { canary }) });
}

function announce(output: Output, plan: UpgradePlan, request: UpgradeRequest, json: boolean): void {
  const mediaServers = plan.mediaServers.map((mediaServer) => ({ mediaServerId: mediaServer.mediaServerId, groups: mediaServer.targets.map((target) => target.groupId) }));
  if (json) {
    output.line(planJson(plan, request, { mediaServers }));
    return;
  }
  output.line(
    `upgrade ${plan.upgradeId}: ${request.image}:${request.version} on ${mediaServers.length} media server(s), groups ${request.groups.join(' then ')}, at most ${
      plan.concurrency
    } at once`,
  );
  if (request.canary !== undefined) output.line(describeCanaryPolicy(request.canary));
}

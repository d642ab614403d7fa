import { z } from 'zod';
import { groupIdSchema } from '../contracts/call-control-ids';
import { DialplanError, MAX_GROUP_SHARE, RouteTable, activeGroups, firstChoiceShares, parseRouteSpec, parseRouteTable } from '../dialplan';
import { CliError, UsageError } from './cli-error';
import { EslTarget } from './esl-target';
import { withMediaServer } from './media-server-session';
import { parseOptions } from './option-schema';
import { Output, formatTable } from './output';
import { describeRouteChange } from './route-change';

export interface RoutesCommand {
  readonly action: RoutesAction;
  readonly target: EslTarget;
  /** `--group` values: specs for `set`, one id for `drain`/`restore`/`share`. */
  readonly groups: readonly string[];
  /** `set`: `--share ID=PERCENT` values. */
  readonly shares?: readonly string[];
  /** `share`: `--percent PERCENT|none`. */
  readonly percent?: string;
  readonly json: boolean;
  /** `set`: accept a table with fewer than two active groups (its upgrades cannot avoid dropping calls). */
  readonly allowSingleGroup?: boolean;
  /** `set`: show the change and make none. */
  readonly dryRun?: boolean;
  /** `set`: asked before the change is made, after it is shown (on a terminal); false leaves the table as it is. */
  readonly confirm?: (question: string) => Promise<boolean>;
}

export type RoutesAction = 'show' | 'set' | 'drain' | 'restore' | 'share';

const NO_SHARE = 'none';
const percentSchema = z
  .string()
  .regex(/^[0-9]{1,3}$/, { error: (issue) => `'${String(issue.input)}' is not a whole percent` })
  .transform(Number)
  .pipe(z.int().max(MAX_GROUP_SHARE, { error: (issue) => `${String(issue.input)}% is more than ${MAX_GROUP_SHARE}%` }));
const shareSpecSchema = z
  .string()
  .regex(/^[^=]*=[^=]*$/, { error: (issue) => `'${String(issue.input)}' is not ID=PERCENT` })
  .transform((spec) => spec.split('='))
  .pipe(z.tuple([groupIdSchema, percentSchema]));

/** `voiceplane routes show|set|drain|restore|share`: reads or edits a media server's call-control route table. */
export async function runRoutesCommand(command: RoutesCommand, output: Output): Promise<void> {
  const { action } = command;
  if (action === 'set') {
    await setRoutes(command, output);
    return;
  }
  const groupId = action === 'show' ? undefined : singleGroupId(action, command.groups);
  const share = action === 'share' ? shareOption(command.percent) : undefined;
  const table = await withMediaServer(command.target, async (client) => {
    if (action === 'show') return client.routes();
    if (action === 'share') return client.setShare(groupId!, share);
    return action === 'drain' ? client.drain(groupId!) : client.restore(groupId!);
  });
  printRoutes(table, command.json, output);
}

/** `routes set`: refuses a table with one active group unless allowed, shows the change, then makes it (unless a dry run or declined). */
async function setRoutes(command: RoutesCommand, output: Output): Promise<void> {
  const next = tableFromSpecs(command.groups, command.shares ?? []);
  const active = activeGroups(next);
  if (active.length < 2 && !command.allowSingleGroup) {
    throw new UsageError(`routes set: only ${active.map((group) => group.id).join(', ')} would take new calls; upgrading it would drop calls (give a second --group, or --allow-single-group)`);
  }
  const table = await withMediaServer(command.target, async (client) => {
    const current = await client.routes();
    const change = describeRouteChange(current, next);
    if (!command.json) change.forEach((line) => output.line(line));
    if (command.dryRun) {
      if (command.json) output.line(JSON.stringify({ dryRun: true, current: routesJson(current), next: routesJson(next), change }));
      return undefined;
    }
    if (command.confirm && !(await command.confirm('apply this route table? [y/N] '))) throw new CliError('routes set: not confirmed; the route table is unchanged');
    return client.setRoutes(next);
  });
  if (table) printRoutes(table, command.json, output);
}

function tableFromSpecs(specs: readonly string[], shareSpecs: readonly string[]): RouteTable {
  if (specs.length === 0) throw new UsageError('routes set: at least one --group ID=HOST:PORT[|HOST:PORT...][@WEIGHT] is required');
  let table: RouteTable;
  try {
    table = parseRouteTable({ groups: specs.map(parseRouteSpec) });
  } catch (error) {
    if (error instanceof DialplanError) throw new UsageError(`--group: ${error.message}`);
    throw error;
  }
  const shares = new Map<string, number>();
  for (const [id, share] of shareSpecs.map((spec) => parseOptions(shareSpecSchema, spec, '--share'))) {
    if (shares.has(id)) throw new UsageError(`--share: '${id}' is given more than once`);
    if (!table.groups.some((group) => group.id === id)) throw new UsageError(`--share: no --group '${id}' to give a share`);
    shares.set(id, share);
  }
  try {
    return parseRouteTable({ groups: table.groups.map((group) => (shares.has(group.id) ? { ...group, share: shares.get(group.id) } : group)) });
  } catch (error) {
    if (error instanceof DialplanError) throw new UsageError(`--share: ${error.message}`);
    throw error;
  }
}

/** `--percent PERCENT|none` of `routes share`: the share, undefined for none. */
function shareOption(percent: string | undefined): number | undefined {
  if (percent === undefined) throw new UsageError(`--percent: required (PERCENT, or ${NO_SHARE} to remove the share)`);
  return percent === NO_SHARE ? undefined : parseOptions(percentSchema, percent, '--percent');
}

function singleGroupId(action: string, groups: readonly string[]): string {
  if (groups.length !== 1) throw new UsageError(`routes ${action}: exactly one --group ID is required`);
  return parseGroupIdOption(groups[0]);
}

/** Checks a `--group ID` value against the route table's rules for group ids, before anything is sent. */
export function parseGroupIdOption(id: string): string {
  return parseOptions(groupIdSchema, id, '--group');
}

export function routesJson(table: RouteTable | undefined) {
  const firstChoice = table === undefined ? new Map<string, number>() : firstChoiceShares(table);
  return {
    groups: (table?.groups ?? []).map((group) => ({
      id: group.id,
      endpoints: group.endpoints.map((endpoint) => `${endpoint.host}:${endpoint.port}`),
      weight: group.weight ?? null,
      state: group.state,
      /** Percent of new calls given to this group first by its share; null without one. */
      share: group.share ?? null,
      /** Percent of new calls that try this group first (its share, or the rest for the first group without one); null when drained. */
      firstChoicePercent: firstChoice.get(group.id) ?? null,
    })),
  };
}

function printRoutes(table: RouteTable | undefined, json: boolean, output: Output): void {
  const view = routesJson(table);
  if (json) {
    output.line(JSON.stringify(view));
    return;
  }
  if (view.groups.length === 0) {
    output.line('no route table on this media server');
    return;
  }
  const percent = (value: number | null) => (value === null ? '-' : `${value}%`);
  const rows = view.groups.map((group) => [
    group.id,
    group.state,
    group.weight === null ? '-' : String(group.weight),
    percent(group.share),
    percent(group.firstChoicePercent),
    group.endpoints.join('|'),
  ]);
  formatTable(['GROUP', 'STATE', 'WEIGHT', 'SHARE', 'FIRST-CHOICE', 'ENDPOINTS'], rows).forEach((line) => output.line(line));
}

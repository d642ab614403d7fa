import { groupIdSchema } from '../contracts/call-control-ids';
import { DialplanError, RouteTable, activeGroups, parseRouteSpec, parseRouteTable } from '../dialplan';
import { CliError, UsageError } from './cli-error';
import { EslTarget } from './esl-target';
import { withMediaServer } from './media-server-session';
import { parseOptions } from './option-schema';
import { Output, formatTable } from './output';
import { describeRouteChange } from './route-change';

export interface RoutesCommand {
  readonly action: RoutesAction;
  readonly target: EslTarget;
  /** `--group` values: specs for `set`, one id for `drain`/`restore`. */
  readonly groups: readonly string[];
  readonly json: boolean;
  /** `set`: accept a table with fewer than two active groups (its upgrades cannot avoid dropping calls). */
  readonly allowSingleGroup?: boolean;
  /** `set`: show the change and make none. */
  readonly dryRun?: boolean;
  /** `set`: asked before the change is made, after it is shown (on a terminal); false leaves the table as it is. */
  readonly confirm?: (question: string) => Promise<boolean>;
}

export type RoutesAction = 'show' | 'set' | 'drain' | 'restore';

/** `voiceplane routes show|set|drain|restore`: reads or edits a media server's call-control route table. */
export async function runRoutesCommand(command: RoutesCommand, output: Output): Promise<void> {
  const { action } = command;
  if (action === 'set') {
    await setRoutes(command, output);
    return;
  }
  const groupId = action === 'drain' || action === 'restore' ? singleGroupId(action, command.groups) : undefined;
  const table = await withMediaServer(command.target, async (client) => {
    if (action === 'show') return client.routes();
    return action === 'drain' ? client.drain(groupId!) : client.restore(groupId!);
  });
  printRoutes(table, command.json, output);
}

/** `routes set`: refuses a table with one active group unless allowed, shows the change, then makes it (unless a dry run or declined). */
async function setRoutes(command: RoutesCommand, output: Output): Promise<void> {
  const next = tableFromSpecs(command.groups);
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

function tableFromSpecs(specs: readonly string[]): RouteTable {
  if (specs.length === 0) throw new UsageError('routes set: at least one --group ID=HOST:PORT[|HOST:PORT...][@WEIGHT] is required');
  try {
    return parseRouteTable({ groups: specs.map(parseRouteSpec) });
  } catch (error) {
    if (error instanceof DialplanError) throw new UsageError(`--group: ${error.message}`);
    throw error;
  }
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
  return {
    groups: (table?.groups ?? []).map((group) => ({
      id: group.id,
      endpoints: group.endpoints.map((endpoint) => `${endpoint.host}:${endpoint.port}`),
      weight: group.weight ?? null,
      state: group.state,
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
  const rows = view.groups.map((group) => [group.id, group.state, group.weight === null ? '-' : String(group.weight), group.endpoints.join('|')]);
  formatTable(['GROUP', 'STATE', 'WEIGHT', 'ENDPOINTS'], rows).forEach((line) => output.line(line));
}

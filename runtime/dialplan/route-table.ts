import { z } from 'zod';
import { groupIdSchema } from '../contracts/call-control-ids';
import { parseIpv4 } from '../net/ipv4';
import { DialplanError, parseOrThrow } from './dialplan-error';

/**
 * The call-control route table of one media server: the call-control groups a new call may be handed to.
 *
 * Failover order: active groups by descending weight; groups without a weight come after every weighted group;
 * equal weights keep table order. A new call goes to the first group in its try order with an endpoint that
 * accepts the connection. Drained groups keep their place in the table but never receive a new call.
 *
 * Shares (canaries): an active group may carry a share, a percent of new calls. Each new call draws a number in
 * 0..99; the groups with a share above 0 own consecutive ranges of draws in failover order (a share of 10 owns
 * 10 of the 100). A call whose draw falls in a group's range tries that group first; every call then tries the
 * groups without a share in failover order, and last the other groups with a share (0 included), also in
 * failover order. So `blue` at 10 and `green` without a share split new calls 10/90, and either still takes the
 * other's calls when the other refuses them.
 */

/** The dialplan has one helper extension per rank, so at most this many groups can be active at once. */
export const MAX_ACTIVE_GROUPS = 4;
/** A FreeSWITCH dialplan regex yields at most nine captures ($1..$9): the group id plus a host and a port per endpoint. */
export const MAX_ENDPOINTS_PER_GROUP = 4;
export const MIN_GROUP_WEIGHT = 1;
export const MAX_GROUP_WEIGHT = 1000;
/** Shares are percents of new calls. */
export const MAX_GROUP_SHARE = 100;

const HOSTNAME_LABEL_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_HOSTNAME_LENGTH = 253;
const ROUTE_SPEC_SYNTAX = 'ID=HOST:PORT[|HOST:PORT...][@WEIGHT]';

const quoted = (value: unknown) => `'${String(value)}'`;

function isHostname(host: string): boolean {
  return host.length <= MAX_HOSTNAME_LENGTH && host.split('.').every((label) => HOSTNAME_LABEL_PATTERN.test(label));
}

/** A name made only of digits and dots reads as an IPv4 address, so it must be a valid one. */
function isHostnameOrIPv4(host: string): boolean {
  return /^[0-9.]+$/.test(host) ? parseIpv4(host) !== undefined : isHostname(host);
}

const hostSchema = z
  .string()
  .toLowerCase()
  .refine(isHostnameOrIPv4, { error: (issue) => `${quoted(issue.input)} is not a hostname or an IPv4 address` });

const integerIn = (min: number, max: number) => {
  const outOfRange = { error: (issue: { input?: unknown }) => `${String(issue.input)} is not in ${min}..${max}` };
  return z.int({ error: (issue) => `${quoted(issue.input)} is not an integer` }).min(min, outOfRange).max(max, outOfRange);
};

const portSchema = integerIn(1, 65535);
const weightSchema = integerIn(MIN_GROUP_WEIGHT, MAX_GROUP_WEIGHT);
const shareSchema = integerIn(0, MAX_GROUP_SHARE);

export const endpointSchema = z.strictObject({ host: hostSchema, port: portSchema });

export const callControlGroupRouteSchema = z.strictObject({
  id: groupIdSchema,
  endpoints: z
    .array(endpointSchema)
    .min(1, 'a group needs at least one endpoint')
    .max(MAX_ENDPOINTS_PER_GROUP, `at most ${MAX_ENDPOINTS_PER_GROUP} endpoints per group (the dialplan captures stop at $9)`),
  weight: weightSchema.optional(),
  /** Percent of new calls tried on this group first (see the file's comment); only on an active group. */
  share: shareSchema.optional(),
  state: z.enum(['active', 'drained'], { error: "must be 'active' or 'drained'" }),
});

export const routeTableSchema = z
  .strictObject({ groups: z.array(callControlGroupRouteSchema).min(1, 'a route table needs at least one group') })
  .superRefine((table, context) => {
    const seen = new Set<string>();
    table.groups.forEach((group, index) => {
      if (seen.has(group.id)) context.addIssue({ code: 'custom', path: ['groups', index, 'id'], message: `duplicate group id ${quoted(group.id)}` });
      seen.add(group.id);
    });
    const activeCount = table.groups.filter((group) => group.state === 'active').length;
    if (activeCount > MAX_ACTIVE_GROUPS) {
      context.addIssue({ code: 'custom', path: ['groups'], message: `${activeCount} groups are active; the dialplan tries at most ${MAX_ACTIVE_GROUPS}` });
    }
    table.groups.forEach((group, index) => {
      if (group.state === 'drained' && group.share !== undefined) {
        context.addIssue({ code: 'custom', path: ['groups', index, 'share'], message: `${quoted(group.id)} is drained: a drained group takes no share of new calls` });
      }
    });
    const shared = table.groups.filter((group) => group.state === 'active' && group.share !== undefined);
    const total = shared.reduce((sum, group) => sum + (group.share ?? 0), 0);
    if (total > MAX_GROUP_SHARE) context.addIssue({ code: 'custom', path: ['groups'], message: `shares add up to ${total}%, more than 100%` });
    const unshared = table.groups.filter((group) => group.state === 'active' && group.share === undefined);
    if (shared.length > 0 && total < MAX_GROUP_SHARE && unshared.length === 0) {
      context.addIssue({ code: 'custom', path: ['groups'], message: `shares add up to ${total}% and no active group is left without a share to take the other ${MAX_GROUP_SHARE - total}%` });
    }
  });

export type Endpoint = z.output<typeof endpointSchema>;
export type CallControlGroupRoute = z.output<typeof callControlGroupRouteSchema>;
export type GroupState = CallControlGroupRoute['state'];
export type RouteTable = z.output<typeof routeTableSchema>;

/** Validates a route table from outside (JSON, CLI, Step Functions input); host names come back lowercased. */
export function parseRouteTable(input: unknown): RouteTable {
  return parseOrThrow(routeTableSchema, input, 'route table');
}

/** The active groups in failover order (see above); without shares, the order every new call tries them in. */
export function activeGroups(table: RouteTable): CallControlGroupRoute[] {
  return table.groups.filter((group) => group.state === 'active').sort((first, second) => (second.weight ?? 0) - (first.weight ?? 0));
}

/** The active groups in the order a new call that drew `draw` (an integer in 0..99) tries them (see shares above). */
export function tryOrder(table: RouteTable, draw: number): CallControlGroupRoute[] {
  const active = activeGroups(table);
  let rangeEnd = 0;
  const first = active.find((group) => (group.share ?? 0) > 0 && draw < (rangeEnd += group.share ?? 0));
  const unshared = active.filter((group) => group.share === undefined);
  const shared = active.filter((group) => group.share !== undefined && group !== first);
  return [...(first ? [first] : []), ...unshared, ...shared];
}

/** The percent of new calls each active group is tried first for: its share, and the groups without one split the rest in failover order (the first takes it all). */
export function firstChoiceShares(table: RouteTable): Map<string, number> {
  const shares = new Map(activeGroups(table).map((group) => [group.id, group.share ?? 0]));
  const remainder = MAX_GROUP_SHARE - [...shares.values()].reduce((sum, share) => sum + share, 0);
  const firstUnshared = activeGroups(table).find((group) => group.share === undefined);
  if (firstUnshared) shares.set(firstUnshared.id, remainder);
  return shares;
}

/** Gives group `id` a share of new calls (`undefined` removes it); the group must be active. */
export function setGroupShare(table: RouteTable, id: string, share: number | undefined): RouteTable {
  const group = findGroup(table, id);
  if (group.state !== 'active') throw new DialplanError(`cannot give ${quoted(id)} a share of new calls: it is drained (restore it first)`);
  const groups = table.groups.map((candidate) => (candidate.id === id ? withShare(candidate, share) : candidate));
  return parseOrThrow(routeTableSchema, { groups }, 'route table');
}

function withShare(group: CallControlGroupRoute, share: number | undefined): CallControlGroupRoute {
  const { share: _previous, ...rest } = group;
  return share === undefined ? rest : { ...rest, share };
}

/** Throws unless at least one group is active: without one every new call is rejected. */
export function assertRoutable(table: RouteTable): void {
  if (activeGroups(table).length === 0) {
    throw new DialplanError(`route table has no active call-control group (${describeGroups(table)}): every new call would be rejected`);
  }
}

/** Stops new calls to group `id` (its share goes with it); its calls in progress continue. Refuses to drain the last active group. */
export function drainGroup(table: RouteTable, id: string): RouteTable {
  const group = findGroup(table, id);
  if (group.state === 'drained') return table;
  if (activeGroups(table).length === 1) {
    throw new DialplanError(`refusing to drain ${quoted(id)}: it is the last active call-control group (restore another group first)`);
  }
  const groups = withGroupState(table, id, 'drained').groups.map((candidate) => (candidate.id === id ? withShare(candidate, undefined) : candidate));
  return parseOrThrow(routeTableSchema, { groups }, `route table without ${quoted(id)}`);
}

/** Lets group `id` take new calls again, at its place in the try order. */
export function restoreGroup(table: RouteTable, id: string): RouteTable {
  const group = findGroup(table, id);
  if (group.state === 'active') return table;
  if (activeGroups(table).length >= MAX_ACTIVE_GROUPS) {
    throw new DialplanError(`cannot restore ${quoted(id)}: ${MAX_ACTIVE_GROUPS} groups are already active, the most the dialplan tries`);
  }
  return withGroupState(table, id, 'active');
}

/** Parses the CLI syntax `ID=HOST:PORT[|HOST:PORT...][@WEIGHT]` into an active group. */
export function parseRouteSpec(spec: string): CallControlGroupRoute {
  const subject = `route spec ${quoted(spec)}`;
  const fail = (problem: string): never => {
    throw new DialplanError(`${subject}: ${problem}`);
  };
  const separator = spec.indexOf('=');
  if (separator < 0) fail(`expected ${ROUTE_SPEC_SYNTAX}`);
  const [endpointList, weightText, ...rest] = spec.slice(separator + 1).split('@');
  if (rest.length > 0) fail(`more than one '@' (expected ${ROUTE_SPEC_SYNTAX})`);
  const endpoints = endpointList.split('|').map((text) => parseEndpointSpec(text, fail));
  const weight = weightText === undefined ? undefined : parseDecimal(weightText) ?? fail(`weight ${quoted(weightText)} is not a number`);
  const group = { id: spec.slice(0, separator), endpoints, state: 'active', ...(weight === undefined ? {} : { weight }) };
  return parseOrThrow(callControlGroupRouteSchema, group, subject);
}

function parseEndpointSpec(text: string, fail: (problem: string) => never): { host: string; port: number } {
  const separator = text.lastIndexOf(':');
  if (separator <= 0) return fail(`endpoint ${quoted(text)} must be HOST:PORT`);
  const portText = text.slice(separator + 1);
  const port = parseDecimal(portText) ?? fail(`endpoint ${quoted(text)}: port ${quoted(portText)} is not a number`);
  return { host: text.slice(0, separator), port };
}

function parseDecimal(text: string): number | undefined {
  return /^[0-9]{1,9}$/.test(text) ? Number(text) : undefined;
}

function findGroup(table: RouteTable, id: string): CallControlGroupRoute {
  const group = table.groups.find((candidate) => candidate.id === id);
  if (!group) throw new DialplanError(`no call-control group ${quoted(id)} in the route table (${describeGroups(table)})`);
  return group;
}

function withGroupState(table: RouteTable, id: string, state: GroupState): RouteTable {
  return { groups: table.groups.map((group) => (group.id === id ? { ...group, state } : group)) };
}

function describeGroups(table: RouteTable): string {
  return `groups: ${table.groups.map((group) => `${group.id} ${group.state}`).join(', ')}`;
}

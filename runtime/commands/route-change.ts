import type { CallControlGroupRoute, RouteTable } from '../dialplan';

const endpointsOf = (group: CallControlGroupRoute) => group.endpoints.map((endpoint) => `${endpoint.host}:${endpoint.port}`).join('|');
const weightOf = (group: CallControlGroupRoute) => (group.weight === undefined ? '-' : String(group.weight));
const shareOf = (group: CallControlGroupRoute) => (group.share === undefined ? '-' : `${group.share}%`);
const describe = (group: CallControlGroupRoute) =>
  `${group.id} ${group.state} ${endpointsOf(group)} weight ${weightOf(group)}${group.share === undefined ? '' : ` share ${shareOf(group)}`}`;

/**
 * What replacing `current` by `next` changes, one line per group in the new order: `+` added, `-` removed,
 * `~` changed (each changed field as old → new: state, endpoints, weight, share), `=` unchanged.
 */
export function describeRouteChange(current: RouteTable | undefined, next: RouteTable): string[] {
  const before = new Map((current?.groups ?? []).map((group) => [group.id, group]));
  const lines = next.groups.map((group) => {
    const old = before.get(group.id);
    if (!old) return `+ ${describe(group)}`;
    const changes = [
      old.state !== group.state ? `state ${old.state} → ${group.state}` : undefined,
      endpointsOf(old) !== endpointsOf(group) ? `endpoints ${endpointsOf(old)} → ${endpointsOf(group)}` : undefined,
      weightOf(old) !== weightOf(group) ? `weight ${weightOf(old)} → ${weightOf(group)}` : undefined,
      shareOf(old) !== shareOf(group) ? `share of new calls ${shareOf(old)} → ${shareOf(group)}` : undefined,
    ].filter((change): change is string => change !== undefined);
    return changes.length === 0 ? `= ${describe(group)}` : `~ ${group.id}: ${changes.join('; ')}`;
  });
  const nextIds = new Set(next.groups.map((group) => group.id));
  const removed = [...before.values()].filter((group) => !nextIds.has(group.id)).map((group) => `- ${describe(group)}`);
  const order = (table: RouteTable) => table.groups.map((group) => group.id).join(',');
  const sameGroups = removed.length === 0 && before.size === next.groups.length;
  const reordered = current && sameGroups && order(current) !== order(next) ? [`~ order: ${order(current)} → ${order(next)}`] : [];
  return [...lines, ...removed, ...reordered];
}

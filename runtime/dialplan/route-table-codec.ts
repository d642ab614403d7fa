import { DialplanError, parseOrThrow } from './dialplan-error';
import { activeGroups, type CallControlGroupRoute, MAX_ACTIVE_GROUPS, parseRouteTable, type RouteTable, routeTableSchema } from './route-table';

/**
 * The route table as ONE value, kept twice under the same realm and key: in mod_hash (`hash insert` replaces it under
 * one lock, so a call reads the old table or the new one, never none) and in the core db (`db insert`, which survives a
 * restart but deletes before it inserts). Calls read the hash and fall back to the db when the hash is empty.
 *
 *   HEADER~RECORD~RECORD...       one record per group, in table order
 *   HEADER = vp1                  a table without shares
 *          | vp2_E1_E2_E3_E4      a table with shares: Ek is where the k-th share's range of draws ends (see below)
 *   RECORD = ID_STATE_WEIGHT_HOST_PORT[_HOST_PORT...]
 *   STATE  = aN (active, N-th in the base order) | aNsK (active with a share) | d (drained)
 *   WEIGHT = decimal, empty when the group has none
 *
 * e.g. `vp1~blue_a2__10.0.0.1_8084_10.0.0.2_8084~green_a1_50_cc.example.com_8084`, and with green at 10 %:
 * `vp2_10_10_10_10~blue_a1__10.0.0.1_8084_10.0.0.2_8084~green_a2s1_50_cc.example.com_8084`.
 *
 * Base order: the groups without a share in failover order, then the groups with one (0 included) in failover order;
 * it is the try order of a call whose draw no share owns, and without shares it is the failover order. Shares: the
 * groups with a share above 0 are numbered K = 1, 2... in failover order and own draws [E(K-1), EK) (E0 = 0); the
 * bounds after the last one repeat it. A group with a share of 0 is `s0`. A call whose draw falls in slot K tries
 * that group first, then the base order without it: exactly `tryOrder` (route-table.ts).
 *
 * Why two format tags: a table without shares is written exactly as before shares existed (`vp1`), so the values
 * stored before an upgrade of this software decode unchanged and a media server whose dialplan predates shares keeps
 * routing every table it can honour. Such a dialplan matches only `vp1`: a `vp2` table would leave it no group and
 * it would reject every call, so a table with shares needs a media server whose dialplan reads `vp2` (rendered by
 * this version, with mod_expr for the draw).
 *
 * Only RFC 3986 unreserved characters [a-z0-9._~-] occur: no `/` (the db API's separator), no whitespace,
 * nothing URL-encoding would change, and nothing FreeSWITCH variable expansion would act on (`$`, `{`, `(`).
 * The rank N, the slot K and the bounds are derived; they are stored so the dialplan finds a group with one regex.
 * The encoding is canonical: decoding accepts only what encoding produces.
 */

/** `hash|db insert/ROUTE_TABLE_DB_REALM/ROUTE_TABLE_DB_KEY/<encoded table>` write the table; `hash|db select/...` read it. */
export const ROUTE_TABLE_DB_REALM = 'voiceplane';
export const ROUTE_TABLE_DB_KEY = 'call_control_routes';
/** Each call is tagged `limit hash CALL_COUNT_LIMIT_REALM <group id>`; `limit_usage hash CALL_COUNT_LIMIT_REALM <group id>` counts them. */
export const CALL_COUNT_LIMIT_REALM = 'voiceplane_cc';
/** First field of an encoded table without shares: the encoding version. */
export const ROUTE_TABLE_FORMAT = 'vp1';
/** First field of an encoded table with shares, followed by the share bounds. */
export const SHARED_ROUTE_TABLE_FORMAT = 'vp2';

/** Channel variable naming the group a call was last handed to (visible to call control and in every channel event). */
export const CALL_CONTROL_GROUP_VARIABLE = 'vp_cc_group';
/**
 * Channel variable the call-control service sets to {@link CALL_CONTROL_CONNECTED_VALUE} as its first command after
 * `connect`. The dialplan reads it when the socket application returns: unset means no endpoint ever took the call
 * (try the next group, then reject); set means call control had the call and went away (re-home the live call).
 * FreeSWITCH's own `socket_host` cannot tell: mod_event_socket sets it before every connection attempt.
 */
export const CALL_CONTROL_CONNECTED_VARIABLE = 'vp_cc_connected';
export const CALL_CONTROL_CONNECTED_VALUE = 'true';
/** Channel variable holding the route table as read when the call's current routing attempt (first routing or re-home) began. */
export const ROUTE_TABLE_SNAPSHOT_VARIABLE = 'vp_cc_routes';
/** Channel variable counting the call's re-homes, one `x` per re-home. */
export const REHOME_TALLY_VARIABLE = 'vp_cc_rehomes';
/** Channel variable holding the call's draw, an integer in 0..99 drawn once per call: which share it falls in. */
export const DRAW_VARIABLE = 'vp_cc_draw';
/** Channel variable holding the share slot K (see above) the draw falls in for the current routing attempt's table; above the last slot, none. */
export const DRAWN_SLOT_VARIABLE = 'vp_cc_slot';
/**
 * The group patterns below match `<encoded table>/<drawn slot>`: `/` never occurs in an encoded table, and the slot is
 * empty when the table has no shares.
 */
export const ROUTING_SUBJECT_SEPARATOR = '/';

/**
 * Longest value FreeSWITCH gives back: mod_db's `db select` copies the row into a 256-byte buffer, so a
 * longer table would reach the dialplan silently cut.
 */
export const MAX_ENCODED_ROUTE_TABLE_LENGTH = 255;

const RECORD_SEPARATOR = '~';
const FIELD_SEPARATOR = '_';
const VALUE_CHARACTER = /^[a-z0-9._~-]$/;
const DRAINED_STATE = 'd';
const SLOT_MARK = 's';
/** One share bound per group the dialplan can try. */
const SHARE_SLOTS = Array.from({ length: MAX_ACTIVE_GROUPS }, (_, index) => index + 1);

// Regex building blocks, valid in both PCRE (FreeSWITCH) and JavaScript. No backslashes: FreeSWITCH's variable
// expansion, which also runs over condition expressions, treats some backslash sequences specially.
const ID_TOKEN = '[a-z][a-z0-9-]*';
const WEIGHT_TOKEN = '(?:[1-9][0-9]*)?';
const HOST_TOKEN = '[a-z0-9.-]+';
const PORT_TOKEN = '[1-9][0-9]*';
const BOUND_TOKEN = '(?:0|[1-9][0-9]*)';
const SHARED_HEADER_PATTERN = new RegExp(`^${SHARED_ROUTE_TABLE_FORMAT}((?:_${BOUND_TOKEN}){${MAX_ACTIVE_GROUPS}})$`);
const RECORD_PATTERN = new RegExp(`^(${ID_TOKEN})_(?:a([0-9])(?:${SLOT_MARK}([0-9]))?|${DRAINED_STATE})_(${WEIGHT_TOKEN})((?:_${HOST_TOKEN}_${PORT_TOKEN})+)$`);
const ANY_HEADER_PATTERN = `(?:${ROUTE_TABLE_FORMAT}|${SHARED_ROUTE_TABLE_FORMAT}(?:_[0-9]+){${MAX_ACTIVE_GROUPS}})`;
/** After the slot mark: "the routing subject ends with this slot" (a lookahead, so no capture is spent). */
const drawnSlotIs = (slot: number) => `(?=[^${ROUTING_SUBJECT_SEPARATOR}]*${ROUTING_SUBJECT_SEPARATOR}${slot}$)`;
const drawnSlotIsNot = (slot: number) => `(?![^${ROUTING_SUBJECT_SEPARATOR}]*${ROUTING_SUBJECT_SEPARATOR}${slot}$)`;

/** Where a table puts each active group: its rank in the base order, its share slot, and the bounds of the share slots (see above). */
interface RoutingLayout {
  readonly ranks: ReadonlyMap<string, number>;
  /** Groups with a share: their slot, 0 for a share of 0. */
  readonly slots: ReadonlyMap<string, number>;
  /** Undefined when no group has a share. */
  readonly bounds: readonly number[] | undefined;
}

/** Encodes a route table for the core db, shares included; throws a {@link DialplanError} if the table is invalid. */
export function encodeRouteTable(table: RouteTable): string {
  const valid = parseRouteTable(table);
  const layout = routingLayout(valid);
  const header = layout.bounds === undefined ? ROUTE_TABLE_FORMAT : [SHARED_ROUTE_TABLE_FORMAT, ...layout.bounds].join(FIELD_SEPARATOR);
  const encoded = [header, ...valid.groups.map((group) => encodeGroup(group, layout))].join(RECORD_SEPARATOR);
  if (encoded.length > MAX_ENCODED_ROUTE_TABLE_LENGTH) {
    throw new DialplanError(
      `route table encodes to ${encoded.length} characters; FreeSWITCH's db returns at most ${MAX_ENCODED_ROUTE_TABLE_LENGTH} (use fewer endpoints or shorter host names)`,
    );
  }
  return encoded;
}

/** Decodes a value read with `db select`; throws a {@link DialplanError} naming the offending part. */
export function decodeRouteTable(text: string): RouteTable {
  const fail = (problem: string): never => {
    throw new DialplanError(`stored route table: ${problem}`);
  };
  const strayCharacter = [...text].find((character) => !VALUE_CHARACTER.test(character));
  if (strayCharacter !== undefined) fail(`unexpected character ${JSON.stringify(strayCharacter)} (only a-z 0-9 . _ ~ - occur)`);
  const [header, ...records] = text.split(RECORD_SEPARATOR);
  const bounds = decodeHeader(header, fail);
  const decoded = records.map((record, index) => decodeRecord(record, index, bounds, fail));
  const table = parseOrThrow(routeTableSchema, { groups: decoded.map(({ group }) => group) }, 'stored route table');
  const { ranks } = routingLayout(table);
  table.groups.forEach((group, index) => {
    const stored = decoded[index].rank;
    const expected = ranks.get(group.id);
    if (stored !== expected) fail(`group '${group.id}' is stored as '${rankToken(stored)}' but its weight and position make it '${rankToken(expected)}'`);
  });
  const canonical = encodeRouteTable(table);
  if (canonical !== text) fail(`'${text}' is not in canonical form: its groups encode to '${canonical}'`);
  return table;
}

/**
 * Regex matching `<encoded table>/<drawn slot>` when the table's `rank`-th group in the base order has exactly
 * `endpointCount` endpoints and is not the group the draw picked (that one is tried first, see
 * {@link drawnGroupPattern}). Captures: $1 the group id, then the host and port of each endpoint ($2 $3, $4 $5, ...).
 */
export function activeGroupPattern(rank: number, endpointCount: number): string {
  const slot = `(?:${SLOT_MARK}0|${SHARE_SLOTS.map((candidate) => `${SLOT_MARK}${candidate}${drawnSlotIsNot(candidate)}`).join('|')})?`;
  return groupPattern(ANY_HEADER_PATTERN, `a${rank}${slot}`, endpointCount);
}

/**
 * Regex matching `<encoded table>/<drawn slot>` when the group owning the drawn slot has exactly `endpointCount`
 * endpoints. Captures as {@link activeGroupPattern}.
 */
export function drawnGroupPattern(endpointCount: number): string {
  const slot = `(?:${SHARE_SLOTS.map((candidate) => `${SLOT_MARK}${candidate}${drawnSlotIs(candidate)}`).join('|')})`;
  return groupPattern(`${SHARED_ROUTE_TABLE_FORMAT}(?:_[0-9]+){${MAX_ACTIVE_GROUPS}}`, `a[0-9]${slot}`, endpointCount);
}

/** Regex matching an encoded table with shares; captures its share bounds E1..E4 as $1..$4. */
export function shareBoundsPattern(): string {
  return `^${SHARED_ROUTE_TABLE_FORMAT}${`_(${BOUND_TOKEN})`.repeat(MAX_ACTIVE_GROUPS)}${RECORD_SEPARATOR}`;
}

function groupPattern(header: string, state: string, endpointCount: number): string {
  const endpoints = `_(${HOST_TOKEN})_(${PORT_TOKEN})`.repeat(endpointCount);
  return `^${header}(?:~[^~]*)*?~(${ID_TOKEN})_${state}_${WEIGHT_TOKEN}${endpoints}(?:~|${ROUTING_SUBJECT_SEPARATOR})`;
}

function routingLayout(table: RouteTable): RoutingLayout {
  const active = activeGroups(table);
  const shared = active.filter((group) => group.share !== undefined);
  const baseOrder = [...active.filter((group) => group.share === undefined), ...shared];
  const owners = shared.filter((group) => (group.share ?? 0) > 0);
  let end = 0;
  const ends = owners.map((group) => (end += group.share ?? 0));
  return {
    ranks: new Map(baseOrder.map((group, index) => [group.id, index + 1])),
    slots: new Map(shared.map((group) => [group.id, owners.indexOf(group) + 1])),
    bounds: shared.length === 0 ? undefined : SHARE_SLOTS.map((slot) => ends[slot - 1] ?? end),
  };
}

function encodeGroup(group: CallControlGroupRoute, layout: RoutingLayout): string {
  const endpoints = group.endpoints.flatMap((endpoint) => [endpoint.host, String(endpoint.port)]);
  const slot = layout.slots.get(group.id);
  const state = rankToken(layout.ranks.get(group.id)) + (slot === undefined ? '' : `${SLOT_MARK}${slot}`);
  return [group.id, state, group.weight === undefined ? '' : String(group.weight), ...endpoints].join(FIELD_SEPARATOR);
}

/** The share bounds of a `vp2` header, undefined for `vp1`. */
function decodeHeader(header: string, fail: (problem: string) => never): number[] | undefined {
  if (header === ROUTE_TABLE_FORMAT) return undefined;
  const shared = SHARED_HEADER_PATTERN.exec(header);
  if (shared === null) {
    const expected = `'${ROUTE_TABLE_FORMAT}' or '${SHARED_ROUTE_TABLE_FORMAT}' and ${MAX_ACTIVE_GROUPS} share bounds`;
    return fail(`starts with '${header}', expected the format tag ${expected}`);
  }
  return shared[1].slice(1).split(FIELD_SEPARATOR).map(Number);
}

function decodeRecord(
  record: string,
  index: number,
  bounds: readonly number[] | undefined,
  fail: (problem: string) => never,
): { group: unknown; rank: number | undefined } {
  const match = RECORD_PATTERN.exec(record) ?? fail(`group ${index + 1} '${record}' is not ID_STATE_WEIGHT_HOST_PORT[_HOST_PORT...]`);
  const [, id, rank, slot, weight, endpointFields] = match;
  const [, ...hostsAndPorts] = endpointFields.split(FIELD_SEPARATOR);
  const endpoints: { host: string; port: number }[] = [];
  for (let field = 0; field < hostsAndPorts.length; field += 2) {
    endpoints.push({ host: hostsAndPorts[field], port: Number(hostsAndPorts[field + 1]) });
  }
  const share = slot === undefined ? undefined : shareOfSlot(Number(slot), bounds, () => fail(`group ${index + 1} '${record}' has share slot ${slot}, which the header does not define`));
  const group = {
    id,
    state: rank === undefined ? 'drained' : 'active',
    endpoints,
    ...(weight === '' ? {} : { weight: Number(weight) }),
    ...(share === undefined ? {} : { share }),
  };
  return { group, rank: rank === undefined ? undefined : Number(rank) };
}

function shareOfSlot(slot: number, bounds: readonly number[] | undefined, undefinedSlot: () => never): number {
  if (slot === 0 && bounds !== undefined) return 0;
  if (bounds === undefined || slot > bounds.length) return undefinedSlot();
  return bounds[slot - 1] - (slot === 1 ? 0 : bounds[slot - 2]);
}

function rankToken(rank: number | undefined): string {
  return rank === undefined ? DRAINED_STATE : `a${rank}`;
}

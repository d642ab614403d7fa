import { DialplanError, parseOrThrow } from './dialplan-error';
import { activeGroups, type CallControlGroupRoute, parseRouteTable, type RouteTable, routeTableSchema } from './route-table';

/**
 * The route table as ONE value, kept twice under the same realm and key: in mod_hash (`hash insert` replaces it under
 * one lock, so a call reads the old table or the new one, never none) and in the core db (`db insert`, which survives a
 * restart but deletes before it inserts). Calls read the hash and fall back to the db when the hash is empty.
 *
 *   vp1~RECORD~RECORD...          one record per group, in table order
 *   RECORD = ID_STATE_WEIGHT_HOST_PORT[_HOST_PORT...]
 *   STATE  = aN (active, tried N-th by a new call) | d (drained)
 *   WEIGHT = decimal, empty when the group has none
 *
 * e.g. `vp1~blue_a2__10.0.0.1_8084_10.0.0.2_8084~green_a1_50_cc.example.com_8084`.
 *
 * Only RFC 3986 unreserved characters [a-z0-9._~-] occur: no `/` (the db API's separator), no whitespace,
 * nothing URL-encoding would change, and nothing FreeSWITCH variable expansion would act on (`$`, `{`, `(`).
 * The rank N is derived from the weights; it is stored so the dialplan finds the N-th group with one regex.
 * The encoding is canonical: decoding accepts only what encoding produces.
 */

/** `hash|db insert/ROUTE_TABLE_DB_REALM/ROUTE_TABLE_DB_KEY/<encoded table>` write the table; `hash|db select/...` read it. */
export const ROUTE_TABLE_DB_REALM = 'voiceplane';
export const ROUTE_TABLE_DB_KEY = 'call_control_routes';
/** Each call is tagged `limit hash CALL_COUNT_LIMIT_REALM <group id>`; `limit_usage hash CALL_COUNT_LIMIT_REALM <group id>` counts them. */
export const CALL_COUNT_LIMIT_REALM = 'voiceplane_cc';
/** First field of every encoded table: the encoding version. */
export const ROUTE_TABLE_FORMAT = 'vp1';

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

/**
 * Longest value FreeSWITCH gives back: mod_db's `db select` copies the row into a 256-byte buffer, so a
 * longer table would reach the dialplan silently cut.
 */
export const MAX_ENCODED_ROUTE_TABLE_LENGTH = 255;

const RECORD_SEPARATOR = '~';
const FIELD_SEPARATOR = '_';
const VALUE_CHARACTER = /^[a-z0-9._~-]$/;
const DRAINED_STATE = 'd';

// Regex building blocks, valid in both PCRE (FreeSWITCH) and JavaScript. No backslashes: FreeSWITCH's variable
// expansion, which also runs over condition expressions, treats some backslash sequences specially.
const ID_TOKEN = '[a-z][a-z0-9-]*';
const WEIGHT_TOKEN = '(?:[1-9][0-9]*)?';
const HOST_TOKEN = '[a-z0-9.-]+';
const PORT_TOKEN = '[1-9][0-9]*';
const RECORD_PATTERN = new RegExp(`^(${ID_TOKEN})_(a[0-9]|${DRAINED_STATE})_(${WEIGHT_TOKEN})((?:_${HOST_TOKEN}_${PORT_TOKEN})+)$`);

/** Encodes a route table for the core db; throws a {@link DialplanError} if the table is invalid. */
export function encodeRouteTable(table: RouteTable): string {
  const valid = parseRouteTable(table);
  const ranks = ranksById(valid);
  const encoded = [ROUTE_TABLE_FORMAT, ...valid.groups.map((group) => encodeGroup(group, ranks.get(group.id)))].join(RECORD_SEPARATOR);
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
  const [format, ...records] = text.split(RECORD_SEPARATOR);
  if (format !== ROUTE_TABLE_FORMAT) fail(`starts with '${format}', expected the format tag '${ROUTE_TABLE_FORMAT}'`);
  const decoded = records.map((record, index) => decodeRecord(record, index, fail));
  const table = parseOrThrow(routeTableSchema, { groups: decoded.map(({ group }) => group) }, 'stored route table');
  const ranks = ranksById(table);
  table.groups.forEach((group, index) => {
    const stored = decoded[index].rank;
    const expected = ranks.get(group.id);
    if (stored !== expected) fail(`group '${group.id}' is stored as '${stateToken(stored)}' but its weight and position make it '${stateToken(expected)}'`);
  });
  return table;
}

/**
 * Regex matching an encoded table whose `rank`-th active group has exactly `endpointCount` endpoints.
 * Captures: $1 the group id, then the host and port of each endpoint ($2 $3, $4 $5, ...).
 */
export function activeGroupPattern(rank: number, endpointCount: number): string {
  const endpoints = `_(${HOST_TOKEN})_(${PORT_TOKEN})`.repeat(endpointCount);
  return `^${ROUTE_TABLE_FORMAT}(?:~[^~]*)*?~(${ID_TOKEN})_a${rank}_${WEIGHT_TOKEN}${endpoints}(?:~|$)`;
}

function encodeGroup(group: CallControlGroupRoute, rank: number | undefined): string {
  const endpoints = group.endpoints.flatMap((endpoint) => [endpoint.host, String(endpoint.port)]);
  return [group.id, stateToken(rank), group.weight === undefined ? '' : String(group.weight), ...endpoints].join(FIELD_SEPARATOR);
}

function decodeRecord(record: string, index: number, fail: (problem: string) => never): { group: unknown; rank: number | undefined } {
  const match = RECORD_PATTERN.exec(record) ?? fail(`group ${index + 1} '${record}' is not ID_STATE_WEIGHT_HOST_PORT[_HOST_PORT...]`);
  const [, id, state, weight, endpointFields] = match;
  const [, ...hostsAndPorts] = endpointFields.split(FIELD_SEPARATOR);
  const endpoints: { host: string; port: number }[] = [];
  for (let field = 0; field < hostsAndPorts.length; field += 2) {
    endpoints.push({ host: hostsAndPorts[field], port: Number(hostsAndPorts[field + 1]) });
  }
  const group = { id, state: state === DRAINED_STATE ? 'drained' : 'active', endpoints, ...(weight === '' ? {} : { weight: Number(weight) }) };
  return { group, rank: state === DRAINED_STATE ? undefined : Number(state.slice(1)) };
}

function ranksById(table: RouteTable): Map<string, number> {
  return new Map(activeGroups(table).map((group, index) => [group.id, index + 1]));
}

function stateToken(rank: number | undefined): string {
  return rank === undefined ? DRAINED_STATE : `a${rank}`;
}

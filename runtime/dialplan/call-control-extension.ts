import { z } from 'zod';
import { parseOrThrow } from './dialplan-error';
import { MAX_ACTIVE_GROUPS, MAX_ENDPOINTS_PER_GROUP } from './route-table';
import {
  activeGroupPattern,
  CALL_CONTROL_CONNECTED_VARIABLE,
  CALL_CONTROL_GROUP_VARIABLE,
  CALL_COUNT_LIMIT_REALM,
  DRAW_VARIABLE,
  drawnGroupPattern,
  DRAWN_SLOT_VARIABLE,
  REHOME_TALLY_VARIABLE,
  ROUTE_TABLE_DB_KEY,
  ROUTE_TABLE_DB_REALM,
  ROUTE_TABLE_SNAPSHOT_VARIABLE,
  ROUTING_SUBJECT_SEPARATOR,
  shareBoundsPattern,
} from './route-table-codec';
import { renderXml, type XmlElement, xmlElement } from './xml-document';

/**
 * The media server's call-control dialplan: one entry extension in the caller's context, and helper extensions,
 * each in a context of its own (unreachable by dialing), entered with `execute_extension ${destination_number} XML
 * <helper context>`. A helper's conditions are evaluated when it is entered, i.e. after the previous socket attempt
 * returned. Entering with the dialed number keeps FreeSWITCH's hunt profile (what events and call control see as
 * Caller-Destination-Number while a helper runs) on the dialed number; only its context names the helper.
 *
 * Entry: reset the per-routing variables, draw the call's number 0..99 (mod_expr), snapshot the route table into a
 *   channel variable (from mod_hash, whose insert replaces a value under one lock; from the core db through the
 *   `stored` helper when the hash is empty after a restart: `db insert` deletes then inserts, so a db read can fall
 *   between the two), then run `share`, `drawn`, the rank helpers 1..maxGroups, then `unrouted`.
 * Share: from the snapshot's share bounds, the slot the draw falls in (none without shares).
 * Drawn: if a group owns the drawn slot, tag the call with it (limit + variable) and `socket` its endpoints as one
 *   failover list.
 * Rank N: skip if call control already had the call; if the snapshot's N-th group in the base order exists and is
 *   not the drawn group, tag the call with it and `socket` its endpoints (so the try order is `tryOrder`).
 * Unrouted: call control had the call and went away -> `rehome`; never connected on a first routing -> explicit
 *   rejection (respond + hangup with a failure cause); never connected while re-homing -> park (the call is up).
 * Rehome: within the budget, clear the connected flag, count the re-home, snapshot the current table and run the
 *   ranks and `unrouted` again against it; past the budget, park.
 *
 * Call control runs with `socket ... async full` and without `socket_resume`: when its connection ends, mod_event_socket
 * only releases the channel from its park, so a call that call control left parked continues here (re-home), while a
 * call it bridged stays bridged to the same far end. (`socket_resume` would reset the channel, ending the bridge.)
 *
 * Every rank of one routing attempt reads the same snapshot: ranks are renumbered on every table write, so ranks
 * read from successive tables could skip a group (a drain while rank 1 stalls connecting turns rank 2 into rank 1).
 */

/** The default context of the entry extension: FreeSWITCH's usual context for calls from outside. */
export const CALL_CONTROL_DIALPLAN_CONTEXT = 'public';
export const CALL_CONTROL_EXTENSION_NAME = 'voiceplane_call_control';
/** Each re-home nests two more execute_extension levels; FreeSWITCH refuses to nest deeper than 16 (SWITCH_MAX_STACKS). */
export const MAX_REHOMES = 5;
export const DEFAULT_MAX_REHOMES = 3;
/**
 * SIP statuses a call no group took may be rejected with, and the hangup cause each gives: mod_sofia's `respond` with
 * a status of 400 or more hangs the call up itself, with the cause it maps the status to (sofia_glue.c), so the cause
 * follows from the status. The `hangup` after `respond` only runs on channels that are not SIP.
 */
export const FALLBACK_SIP_RESPONSES = {
  480: 'NO_USER_RESPONSE',
  486: 'USER_BUSY',
  500: 'NORMAL_TEMPORARY_FAILURE',
  502: 'NETWORK_OUT_OF_ORDER',
  503: 'NORMAL_TEMPORARY_FAILURE',
  504: 'RECOVERY_ON_TIMER_EXPIRE',
} as const;
export type FallbackSipResponse = keyof typeof FALLBACK_SIP_RESPONSES;

const CONTEXT_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const LIVE_ROUTE_TABLE = `\${hash(select/${ROUTE_TABLE_DB_REALM}/${ROUTE_TABLE_DB_KEY})}`;
const STORED_ROUTE_TABLE = `\${db(select/${ROUTE_TABLE_DB_REALM}/${ROUTE_TABLE_DB_KEY})}`;
/**
 * mod_expr's `randomize` seeds from a process-wide generator stirred with clock() and time(), `rand` returns
 * [0, 32767/32768]: times 100, floored, an integer in 0..99. (Of the modules a media server loads, only mod_expr gives a
 * dialplan a uniform random number.)
 */
const DRAW_EXPRESSION = '${expr(randomize(&seed);floor(rand(&seed)*100))}';
const ROUTING_SUBJECT = `\${${ROUTE_TABLE_SNAPSHOT_VARIABLE}}${ROUTING_SUBJECT_SEPARATOR}\${${DRAWN_SLOT_VARIABLE}}`;

function isRegularExpression(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

const optionsSchema = z.strictObject({
  /** Dialplan context of the calls to hand to call control. */
  context: z
    .string()
    .regex(CONTEXT_NAME_PATTERN, { error: (issue) => `'${String(issue.input)}' must be 1-64 letters, digits, '_', '.' or '-'` })
    .default(CALL_CONTROL_DIALPLAN_CONTEXT),
  /** Regex on destination_number selecting the calls to hand to call control (helpers are entered with that number). */
  destinationPattern: z
    .string()
    .refine(isRegularExpression, { error: (issue) => `'${String(issue.input)}' is not a valid regular expression`, abort: true })
    .refine((pattern) => !new RegExp(pattern).test(''), { error: (issue) => `'${String(issue.input)}' must not match an empty destination number` })
    .default('^.+$'),
  /** How many active groups a call may try, in try order. */
  maxGroups: z.int().min(1).max(MAX_ACTIVE_GROUPS).default(MAX_ACTIVE_GROUPS),
  /** How many times a live call whose call-control session ended is handed to call control again before it is parked. */
  maxRehomes: z.int().min(1).max(MAX_REHOMES).default(DEFAULT_MAX_REHOMES),
  /** How a call that no group took is rejected: the SIP status sent before answer (its hangup cause follows from it). */
  fallback: z
    .strictObject({
      sipResponse: z
        .union(Object.keys(FALLBACK_SIP_RESPONSES).map((code) => z.literal(Number(code) as FallbackSipResponse)), {
          error: `must be one of ${Object.keys(FALLBACK_SIP_RESPONSES).join(', ')}`,
        })
        .default(503),
    })
    .prefault({}),
});

export type CallControlDialplanOptions = z.input<typeof optionsSchema>;
type DialplanSettings = z.output<typeof optionsSchema>;

/** Renders the `<include>` document holding the call-control dialplan; byte-identical for the same options. */
export function renderCallControlDialplan(options: CallControlDialplanOptions = {}): string {
  const settings = parseOrThrow(optionsSchema, options, 'call-control dialplan options');
  const contexts = helperContexts(settings);
  const attempt = [contexts.stored, contexts.share, contexts.drawn, ...contexts.ranks, contexts.unrouted].map((helper) =>
    action('execute_extension', helperEntry(helper)),
  );
  return renderXml(
    xmlElement('include', {}, [
      context(settings.context, entryExtension(settings, attempt)),
      context(contexts.stored, storedTableExtension(contexts.stored)),
      context(contexts.share, shareExtension(contexts.share)),
      context(contexts.drawn, groupExtension(contexts.drawn, drawnGroupPattern, 'no group owns the drawn share')),
      ...contexts.ranks.map((name, index) =>
        context(name, groupExtension(name, (count) => activeGroupPattern(index + 1, count), `no active call-control group at rank ${index + 1}`)),
      ),
      context(contexts.unrouted, unroutedExtension(settings, contexts)),
      context(contexts.rehome, rehomeExtension(settings, contexts, attempt)),
    ]),
  );
}

interface HelperContexts {
  stored: string;
  share: string;
  drawn: string;
  ranks: string[];
  unrouted: string;
  rehome: string;
}

function helperContexts(settings: DialplanSettings): HelperContexts {
  const prefix = `vp_cc_${settings.context}`;
  return {
    stored: `${prefix}_stored`,
    share: `${prefix}_share`,
    drawn: `${prefix}_drawn`,
    ranks: Array.from({ length: settings.maxGroups }, (_, index) => `${prefix}_rank_${index + 1}`),
    unrouted: `${prefix}_unrouted`,
    rehome: `${prefix}_rehome`,
  };
}

function entryExtension(settings: DialplanSettings, attempt: XmlElement[]): XmlElement {
  return xmlElement('extension', { name: CALL_CONTROL_EXTENSION_NAME }, [
    condition('destination_number', settings.destinationPattern, [
      // A call routed here again (e.g. transferred back by call control) is routed afresh.
      action('unset', CALL_CONTROL_CONNECTED_VARIABLE),
      action('unset', REHOME_TALLY_VARIABLE),
      // Keeps the group tag when call control transfers the call (switch_limit.c releases tags on transfer by default):
      // the call is still that group's, and a drain must not finish under it.
      action('set', 'limit_ignore_transfer=true'),
      // Once per call (a re-home keeps it): the call stays in the same share while the shares stay the same.
      action('set', `${DRAW_VARIABLE}=${DRAW_EXPRESSION}`),
      snapshotRouteTable(),
      ...attempt,
    ]),
  ]);
}

/** Tries the group `pattern` (per endpoint count) finds in the routing subject, unless call control already had the call. */
function groupExtension(name: string, pattern: (endpointCount: number) => string, noGroup: string): XmlElement {
  const endpointCounts = Array.from({ length: MAX_ENDPOINTS_PER_GROUP }, (_, index) => index + 1);
  return xmlElement('extension', { name }, [
    condition(variable(CALL_CONTROL_CONNECTED_VARIABLE), '^$', [antiAction('log', `DEBUG voiceplane: call control had this call, ${name} not tried`)]),
    // One condition per endpoint count: a socket failover list is built from captures, and captures cannot repeat.
    ...endpointCounts.map((count) =>
      condition(
        ROUTING_SUBJECT,
        pattern(count),
        [
          // Tagged before connecting, so a call is never missing from its group's count. A tag taken for a group whose
          // endpoints then all refuse stays counted until hangup: over-counting only makes a drain wait longer.
          action('limit', `hash ${CALL_COUNT_LIMIT_REALM} $1`),
          action('set', `${CALL_CONTROL_GROUP_VARIABLE}=$1`),
          // Last action: when it returns, the next helper decides from the connected flag what happens next.
          action('socket', `${socketTargets(count)} async full`),
          // Only the last condition is reached when no count matched, so its anti-action means "no group here".
          ...(count === MAX_ENDPOINTS_PER_GROUP ? [antiAction('log', `DEBUG voiceplane: ${noGroup}`)] : []),
        ],
        'on-true',
      ),
    ),
  ]);
}

/**
 * Entered after the snapshot: the share slot the call's draw falls in, 1 + the number of share bounds at or below the
 * draw (past the last share when the draw is above them all); unset for a table without shares.
 */
function shareExtension(name: string): XmlElement {
  const draw = variable(DRAW_VARIABLE);
  const boundsReached = Array.from({ length: MAX_ACTIVE_GROUPS }, (_, index) => `above(${draw}+1,$${index + 1})`).join('+');
  return xmlElement('extension', { name }, [
    condition(variable(ROUTE_TABLE_SNAPSHOT_VARIABLE), shareBoundsPattern(), [
      action('set', `${DRAWN_SLOT_VARIABLE}=\${expr(1+${boundsReached})}`),
      antiAction('unset', DRAWN_SLOT_VARIABLE),
    ]),
  ]);
}

function unroutedExtension(settings: DialplanSettings, contexts: HelperContexts): XmlElement {
  return xmlElement('extension', { name: contexts.unrouted }, [
    condition(variable(CALL_CONTROL_CONNECTED_VARIABLE), '^$', [antiAction('execute_extension', helperEntry(contexts.rehome))]),
    condition(variable(REHOME_TALLY_VARIABLE), '^$', [
      action('log', 'WARNING voiceplane: no call-control group took the call, rejecting it'),
      action('respond', String(settings.fallback.sipResponse)),
      action('hangup', FALLBACK_SIP_RESPONSES[settings.fallback.sipResponse]),
      antiAction('log', 'WARNING voiceplane: no call-control group took the re-homed call, parking it'),
      antiAction('park'),
    ]),
  ]);
}

function rehomeExtension(settings: DialplanSettings, contexts: HelperContexts, attempt: XmlElement[]): XmlElement {
  return xmlElement('extension', { name: contexts.rehome }, [
    condition(variable(REHOME_TALLY_VARIABLE), `^x{0,${settings.maxRehomes - 1}}$`, [
      action('log', `NOTICE voiceplane: call control of group \${${CALL_CONTROL_GROUP_VARIABLE}} left the live call, re-homing it`),
      action('unset', CALL_CONTROL_CONNECTED_VARIABLE),
      action('set', `${REHOME_TALLY_VARIABLE}=\${${REHOME_TALLY_VARIABLE}}x`),
      snapshotRouteTable(),
      ...attempt,
      antiAction('log', `WARNING voiceplane: re-home limit (${settings.maxRehomes}) reached, parking the call`),
      antiAction('park'),
    ]),
  ]);
}

/** Copies the live table into the channel variable every rank of the routing attempt evaluates. */
function snapshotRouteTable(): XmlElement {
  return action('set', `${ROUTE_TABLE_SNAPSHOT_VARIABLE}=${LIVE_ROUTE_TABLE}`);
}

/** Entered right after the snapshot: when the live table is empty (FreeSWITCH restarted), the stored one is used. */
function storedTableExtension(name: string): XmlElement {
  return xmlElement('extension', { name }, [
    condition(variable(ROUTE_TABLE_SNAPSHOT_VARIABLE), '^$', [action('set', `${ROUTE_TABLE_SNAPSHOT_VARIABLE}=${STORED_ROUTE_TABLE}`)]),
  ]);
}

/** `$2:$3|$4:$5|...`: the captured endpoints as the socket application's failover list. */
function socketTargets(endpointCount: number): string {
  return Array.from({ length: endpointCount }, (_, index) => `$${2 * index + 2}:$${2 * index + 3}`).join('|');
}

function variable(name: string): string {
  return `\${${name}}`;
}

function context(name: string, extension: XmlElement): XmlElement {
  return xmlElement('context', { name }, [extension]);
}

function condition(field: string, expression: string, children: XmlElement[] = [], breakOn?: 'on-true'): XmlElement {
  return xmlElement('condition', { field, expression, break: breakOn }, children);
}

function action(application: string, data?: string): XmlElement {
  return xmlElement('action', { application, data });
}

function antiAction(application: string, data?: string): XmlElement {
  return xmlElement('anti-action', { application, data });
}

/** `execute_extension` data running the extension of `helperContext` now, hunted with the dialed number. */
function helperEntry(helperContext: string): string {
  return `\${destination_number} XML ${helperContext}`;
}

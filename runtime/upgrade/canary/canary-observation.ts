import { CALL_CONTROL_CONNECTED_VALUE, CALL_CONTROL_CONNECTED_VARIABLE, CALL_CONTROL_GROUP_VARIABLE } from '../../dialplan';
import type { EslEvent } from '../../esl';
import { isFailedHangupCause } from './call-failure';

/**
 * What FreeSWITCH reported of the calls each call-control group took, while a canary was watched. Built from two
 * channel events of the media server's inbound legs, which carry the dialplan's tags as channel variables:
 * - CHANNEL_HANGUP_COMPLETE with `vp_cc_group` G and `vp_cc_connected` set: a call that ended while G had it; its
 *   Hangup-Cause tells whether it failed, its created and hangup times how long it lasted.
 * - CHANNEL_EXECUTE_COMPLETE of the `socket` application with `vp_cc_group` G: G's call-control connection ended.
 *   Without `vp_cc_connected` no endpoint of G took the call (refused: the dialplan tries the next group); with it and
 *   the channel still up, G's call control left a live call (the dialplan re-homes it). Either is a failed connection.
 */

/** The counts of one group. */
export interface GroupCallCounts {
  /** Calls that ended while the group had them. */
  readonly calls: number;
  /** Of those, calls that ended with a failure hangup cause. */
  readonly failedCalls: number;
  /** Of those, calls shorter than the observation's `shortCallSeconds`, whatever their cause. */
  readonly shortCalls: number;
  /** The failure hangup causes seen, with how many calls ended with each. */
  readonly failureCauses: Readonly<Record<string, number>>;
  /** Connections to the group in which no endpoint took the call. */
  readonly refusedConnections: number;
  /** Live calls the group's call control let go of (re-homed by the dialplan). */
  readonly leftCalls: number;
}

/** The `/health` checks of one member of the watched group. */
export interface MemberHealth {
  readonly url: string;
  readonly checks: number;
  readonly failures: number;
  /** Failed checks since the last good one. */
  readonly consecutiveFailures: number;
  /** Why the last failed check failed. */
  readonly lastProblem?: string;
}

/** A snapshot of a canary watch. */
export interface CanaryObservation {
  /** The group on canary. */
  readonly groupId: string;
  /** Clock milliseconds when the watch started and when this snapshot was taken. */
  readonly startedAt: number;
  readonly observedAt: number;
  /** The threshold `shortCalls` were counted with. */
  readonly shortCallSeconds: number;
  /** Counts per group id, for every group seen (the canary's, and the others for comparison). */
  readonly groups: Readonly<Record<string, GroupCallCounts>>;
  /** The canary group's members' `/health`. */
  readonly health: readonly MemberHealth[];
  /** Media servers whose events do not reach the watch now (connection lost or not yet made): their calls are unseen. */
  readonly unobserved: readonly string[];
}

export const NO_CALLS: GroupCallCounts = { calls: 0, failedCalls: 0, shortCalls: 0, failureCauses: {}, refusedConnections: 0, leftCalls: 0 };

/** The counts of `groupId` in the observation (zero when it took nothing). */
export function groupCounts(observation: CanaryObservation, groupId: string = observation.groupId): GroupCallCounts {
  return Object.hasOwn(observation.groups, groupId) ? observation.groups[groupId] : NO_CALLS;
}

/** The events a tally needs, and the ESL filters that let only those through (mod_event_socket ORs positive filters). */
export const CANARY_EVENTS = ['CHANNEL_HANGUP_COMPLETE', 'CHANNEL_EXECUTE_COMPLETE'] as const;
export const CANARY_EVENT_FILTERS: readonly (readonly [header: string, value: string])[] = [
  ['Event-Name', 'CHANNEL_HANGUP_COMPLETE'],
  ['Application', 'socket'],
];

/** Event headers of the dialplan's tags: the group that had the call, and whether its call control took it. */
export const GROUP_HEADER = `variable_${CALL_CONTROL_GROUP_VARIABLE}`;
export const CONNECTED_HEADER = `variable_${CALL_CONTROL_CONNECTED_VARIABLE}`;

type MutableCounts = { -readonly [Key in keyof GroupCallCounts]: Key extends 'failureCauses' ? Record<string, number> : GroupCallCounts[Key] };

/** Counts channel events into per-group counts (pure bookkeeping; the watch feeds it). */
export class GroupCallTally {
  private readonly counts = new Map<string, MutableCounts>();

  constructor(private readonly shortCallMs: number) {}

  /** Counts one event; events of other kinds, or of channels no group had, change nothing. */
  record(event: EslEvent): void {
    const group = event.headers[GROUP_HEADER];
    if (group === undefined || group === '') return;
    const connected = event.headers[CONNECTED_HEADER] === CALL_CONTROL_CONNECTED_VALUE;
    if (event.name === 'CHANNEL_HANGUP_COMPLETE') {
      const call = endedGroupCall(event);
      if (call) this.countEnded(call);
    } else if (event.name === 'CHANNEL_EXECUTE_COMPLETE' && event.headers['Application'] === 'socket') {
      if (!connected) this.of(group).refusedConnections++;
      else if (isUp(event.headers)) this.of(group).leftCalls++;
    }
  }

  snapshot(): Record<string, GroupCallCounts> {
    return Object.fromEntries([...this.counts].map(([group, counts]) => [group, { ...counts, failureCauses: { ...counts.failureCauses } }]));
  }

  private countEnded(call: EndedGroupCall): void {
    const counts = this.of(call.groupId);
    counts.calls++;
    if (call.failed) {
      counts.failedCalls++;
      counts.failureCauses[call.hangupCause] = (counts.failureCauses[call.hangupCause] ?? 0) + 1;
    }
    const durationMs = callDurationMs(call);
    if (durationMs !== undefined && durationMs < this.shortCallMs) counts.shortCalls++;
  }

  private of(group: string): MutableCounts {
    let counts = this.counts.get(group);
    if (counts === undefined) {
      counts = { ...NO_CALLS, failureCauses: {} };
      this.counts.set(group, counts);
    }
    return counts;
  }
}

/** A call that ended while a group had it (its call control took it), as its CHANNEL_HANGUP_COMPLETE tells. */
export interface EndedGroupCall {
  readonly groupId: string;
  readonly hangupCause: string;
  /** Ended with a failure hangup cause. */
  readonly failed: boolean;
  /** Epoch ms of the channel's creation and hangup (FreeSWITCH's microsecond headers); undefined when the event lacks them. */
  readonly createdAtMs?: number;
  readonly endedAtMs?: number;
}

/** The call a CHANNEL_HANGUP_COMPLETE reports the end of, when a group's call control had it; undefined otherwise. */
export function endedGroupCall(event: EslEvent): EndedGroupCall | undefined {
  const { headers } = event;
  const groupId = headers[GROUP_HEADER];
  if (event.name !== 'CHANNEL_HANGUP_COMPLETE' || !groupId || headers[CONNECTED_HEADER] !== CALL_CONTROL_CONNECTED_VALUE) return undefined;
  const hangupCause = headers['Hangup-Cause'] ?? headers['variable_hangup_cause'] ?? 'UNKNOWN';
  const created = microseconds(headers['Caller-Channel-Created-Time']);
  const ended = microseconds(headers['Caller-Channel-Hangup-Time']) ?? microseconds(headers['Event-Date-Timestamp']);
  return {
    groupId,
    hangupCause,
    failed: isFailedHangupCause(hangupCause),
    ...(created === undefined ? {} : { createdAtMs: created / 1_000 }),
    ...(ended === undefined ? {} : { endedAtMs: ended / 1_000 }),
  };
}

/** From the channel's creation to its hangup; undefined when the event lacked either time or they are out of order. */
function callDurationMs({ createdAtMs, endedAtMs }: EndedGroupCall): number | undefined {
  return createdAtMs === undefined || endedAtMs === undefined || endedAtMs < createdAtMs ? undefined : endedAtMs - createdAtMs;
}

function microseconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^[0-9]+$/.test(value) || value === '0') return undefined;
  return Number(value);
}

function isUp(headers: Readonly<Record<string, string>>): boolean {
  return headers['Answer-State'] !== 'hangup' && headers['Channel-Call-State'] !== 'HANGUP';
}

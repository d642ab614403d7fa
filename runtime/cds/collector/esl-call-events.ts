import { z } from 'zod';
import { CALL_CONTROL_GROUP_VARIABLE } from '../../dialplan';
import type { EslEvent } from '../../esl';
import type { JsonValue } from '../call/call-entries';
import { callIdSchema, ownerOf } from '../call/identifiers';

/** The channel variable carrying a call's id from the site where it originated (set by its dialplan or SIP header). */
export const CALL_ID_VARIABLE = 'vp_call_id';

export const COLLECTED_EVENTS = ['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_BRIDGE', 'CHANNEL_HANGUP_COMPLETE'] as const;

/** What one channel event means for the call data. */
export interface ChannelEventPlan {
  readonly callId: string;
  /** The local client standing for this channel: registered at create, unregistered at hangup. */
  readonly client: string;
  readonly register: boolean;
  readonly properties: Readonly<Record<string, JsonValue>>;
  /** The originating leg at the owner hung up: the end-of-call event. */
  readonly end: boolean;
  readonly unregister: boolean;
  /** Set when the call id variable was unusable and the local id was taken instead. */
  readonly warning?: string;
}

const digits = z.string().regex(/^[0-9]+$/);
const headersSchema = z.object({
  'Unique-ID': z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a channel uuid'),
  'Channel-Call-UUID': z.string().regex(/^[A-Za-z0-9-]{1,64}$/).optional(),
  'Event-Date-Timestamp': digits.optional(),
  'FreeSWITCH-Hostname': z.string().optional(),
  'Caller-Caller-ID-Number': z.string().optional(),
  'Caller-Destination-Number': z.string().optional(),
  'Other-Leg-Unique-ID': z.string().optional(),
  'Hangup-Cause': z.string().optional(),
  variable_billsec: digits.optional(),
  variable_duration: digits.optional(),
  [`variable_${CALL_ID_VARIABLE}`]: z.string().optional(),
  [`variable_${CALL_CONTROL_GROUP_VARIABLE}`]: z.string().optional(),
});

/**
 * Turns a CHANNEL_CREATE/ANSWER/BRIDGE/HANGUP_COMPLETE event into property updates. Facts of the call's
 * originating leg at its owner get plain names (caller, callee, answeredAt, hangupCause, billsec...); facts of
 * any other leg are prefixed with this site (`east.answeredAt`), so legs at several sites do not overwrite
 * each other. Undefined for other events; a problem (one line) for an event that does not parse.
 */
export function planChannelEvent(event: EslEvent, site: string): { plan: ChannelEventPlan } | { problem: string } | undefined {
  if (!(COLLECTED_EVENTS as readonly string[]).includes(event.name)) return undefined;
  const parsed = headersSchema.safeParse(event.headers);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { problem: `${event.name}: header ${issue?.path.join('.')} ${issue?.message}` };
  }
  const headers = parsed.data;
  const uuid = headers['Unique-ID'];
  const callUuid = headers['Channel-Call-UUID'] ?? uuid;
  const { callId, warning } = callIdOf(headers[`variable_${CALL_ID_VARIABLE}`], `${site}:${callUuid}`);
  const originatingLeg = ownerOf(callId) === site && uuid === callUuid;
  const name = (property: string): string => (originatingLeg ? property : `${site}.${property}`);
  const at = headers['Event-Date-Timestamp'] === undefined ? undefined : Math.floor(Number(headers['Event-Date-Timestamp']) / 1000);
  const properties: Record<string, JsonValue> = {};
  const group = headers[`variable_${CALL_CONTROL_GROUP_VARIABLE}`];
  if (group) properties[name('callControlGroup')] = group;
  switch (event.name) {
    case 'CHANNEL_CREATE':
      if (originatingLeg) {
        if (headers['Caller-Caller-ID-Number'] !== undefined) properties.caller = headers['Caller-Caller-ID-Number'];
        if (headers['Caller-Destination-Number'] !== undefined) properties.callee = headers['Caller-Destination-Number'];
      }
      if (headers['FreeSWITCH-Hostname'] !== undefined) properties[name('mediaServer')] = headers['FreeSWITCH-Hostname'];
      if (at !== undefined) properties[name('createdAt')] = at;
      break;
    case 'CHANNEL_ANSWER':
      if (at !== undefined) properties[name('answeredAt')] = at;
      break;
    case 'CHANNEL_BRIDGE':
      if (headers['Other-Leg-Unique-ID'] !== undefined) properties[name('bridgedLeg')] = headers['Other-Leg-Unique-ID'];
      break;
    case 'CHANNEL_HANGUP_COMPLETE':
      if (headers['Hangup-Cause'] !== undefined) properties[name('hangupCause')] = headers['Hangup-Cause'];
      if (headers.variable_billsec !== undefined) properties[name('billsec')] = Number(headers.variable_billsec);
      if (headers.variable_duration !== undefined) properties[name('duration')] = Number(headers.variable_duration);
      break;
  }
  const hangup = event.name === 'CHANNEL_HANGUP_COMPLETE';
  return {
    plan: {
      callId,
      client: `esl:${uuid}`,
      register: event.name === 'CHANNEL_CREATE',
      properties,
      end: hangup && originatingLeg,
      unregister: hangup,
      ...(warning ? { warning } : {}),
    },
  };
}

function callIdOf(variable: string | undefined, localCallId: string): { callId: string; warning?: string } {
  if (variable === undefined || variable === '') return { callId: localCallId };
  const parsed = callIdSchema.safeParse(variable);
  if (parsed.success) return { callId: parsed.data };
  return { callId: localCallId, warning: `variable_${CALL_ID_VARIABLE} "${variable.slice(0, 80)}" ${parsed.error.issues[0]?.message}; using ${localCallId}` };
}

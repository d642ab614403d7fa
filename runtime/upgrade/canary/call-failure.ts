/**
 * Hangup causes of calls that ended the way calls do: a party hung up, declined, was busy, did not answer, dialed a
 * number that does not exist, or an operator ended the call. Every other cause (the temporary-failure, out-of-order,
 * congestion, timer and protocol classes) is a failure of the platform, which a canary counts against its version.
 */
export const NORMAL_HANGUP_CAUSES: ReadonlySet<string> = new Set([
  'NORMAL_CLEARING',
  'NORMAL_UNSPECIFIED',
  'ORIGINATOR_CANCEL',
  'USER_BUSY',
  'NO_ANSWER',
  'NO_USER_RESPONSE',
  'CALL_REJECTED',
  'SUBSCRIBER_ABSENT',
  'UNALLOCATED_NUMBER',
  'NUMBER_CHANGED',
  'INVALID_NUMBER_FORMAT',
  'ATTENDED_TRANSFER',
  'BLIND_TRANSFER',
  'PICKED_OFF',
  'LOSE_RACE',
  'MANAGER_REQUEST',
]);

/** True when a call that ended with `cause` (a FreeSWITCH hangup cause name) failed. */
export function isFailedHangupCause(cause: string): boolean {
  return !NORMAL_HANGUP_CAUSES.has(cause.toUpperCase());
}

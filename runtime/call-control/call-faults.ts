import { z } from 'zod';

/**
 * Fault injection: the reference service can be told to fail a share of the calls it is handed, the way a bad
 * call-control release would, so canary upgrades can be tried and demonstrated. Off unless configured.
 */

/**
 * How a call picked to fail fails, as FreeSWITCH reports it:
 * - `hangup`: the service takes the call (marks it connected) and hangs it up at once with a failure cause;
 *   the call ends, counted against this instance's group.
 * - `refuse`: the service closes the call-control connection without taking the call; the media server's
 *   dialplan moves on to the next endpoint or group (a failed call-control connection), so the caller is not dropped.
 */
export const CALL_FAULT_MODES = ['hangup', 'refuse'] as const;
export type CallFaultMode = (typeof CALL_FAULT_MODES)[number];

/** Hangup causes a failing call may end with: FreeSWITCH cause names of the failure classes (not a normal ending). */
export const CALL_FAULT_HANGUP_CAUSES = ['NORMAL_TEMPORARY_FAILURE', 'DESTINATION_OUT_OF_ORDER', 'NETWORK_OUT_OF_ORDER', 'SWITCH_CONGESTION', 'SERVICE_UNAVAILABLE'] as const;
export type CallFaultHangupCause = (typeof CALL_FAULT_HANGUP_CAUSES)[number];

export const DEFAULT_CALL_FAULT_MODE: CallFaultMode = 'hangup';
export const DEFAULT_CALL_FAULT_CAUSE: CallFaultHangupCause = 'NORMAL_TEMPORARY_FAILURE';

/** Which calls fail, and how. */
export interface CallFaults {
  /** Share of calls that fail, in percent (0..100); each call is drawn independently. */
  readonly percent: number;
  /** @default hangup */
  readonly mode?: CallFaultMode;
  /** The cause of a `hangup` failure. @default NORMAL_TEMPORARY_FAILURE */
  readonly cause?: CallFaultHangupCause;
}

export const callFaultPercentSchema = z.number().min(0, 'must be a percent (0-100)').max(100, 'must be a percent (0-100)');
export const callFaultModeSchema = z.enum(CALL_FAULT_MODES, { error: `must be one of ${CALL_FAULT_MODES.join(', ')}` });
export const callFaultCauseSchema = z.enum(CALL_FAULT_HANGUP_CAUSES, { error: `must be one of ${CALL_FAULT_HANGUP_CAUSES.join(', ')}` });

/** How one call fails, or undefined when it runs normally; `random` draws in [0, 1). */
export function drawCallFault(faults: CallFaults | undefined, random: () => number): { mode: 'hangup'; cause: CallFaultHangupCause } | { mode: 'refuse' } | undefined {
  if (faults === undefined || faults.percent <= 0 || random() * 100 >= faults.percent) return undefined;
  const mode = faults.mode ?? DEFAULT_CALL_FAULT_MODE;
  return mode === 'refuse' ? { mode } : { mode, cause: faults.cause ?? DEFAULT_CALL_FAULT_CAUSE };
}

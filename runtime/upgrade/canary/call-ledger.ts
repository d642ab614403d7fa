import { ReconnectingEslClient } from '../../esl';
import { CALL_CONTROL_CONNECTED_VALUE } from '../../dialplan';
import type { EslEvent } from '../../esl';
import { isFailedHangupCause } from './call-failure';
import { CONNECTED_HEADER, GROUP_HEADER } from './canary-observation';

/** One call a call-control group had, as the media server reported its end. */
export interface LedgerCall {
  readonly groupId: string;
  readonly hangupCause: string;
  readonly failed: boolean;
  /** Epoch ms of the channel's creation and hangup, from FreeSWITCH's own timestamps. */
  readonly createdAtMs: number;
  readonly endedAtMs: number;
}

/** Every call of every group that ends on one media server while the ledger runs. */
export interface CallLedger {
  calls(): readonly LedgerCall[];
  stop(): Promise<void>;
}

/**
 * Records, call by call, what a canary judge only counts: which group had each call that ended, its hangup cause and
 * when it began and ended. For the operator-facing demo and the canary benchmark, which report when a bad version
 * failed its first call and how many calls it had before its share reached 0.
 */
export async function startCallLedger(esl: { readonly host: string; readonly port: number; readonly password: string }): Promise<CallLedger> {
  const calls: LedgerCall[] = [];
  const client = ReconnectingEslClient.start(esl);
  const connected = new Promise<void>((resolve) => client.once('connected', resolve));
  client.on('event', (event) => {
    const call = ledgerCall(event);
    if (call) calls.push(call);
  });
  await client.filter('Event-Name', 'CHANNEL_HANGUP_COMPLETE');
  await client.subscribe(['CHANNEL_HANGUP_COMPLETE']);
  await connected;
  return { calls: () => calls, stop: () => client.close() };
}

/** The ledger entry of a CHANNEL_HANGUP_COMPLETE of a call a group had taken; undefined for any other event. */
export function ledgerCall(event: EslEvent): LedgerCall | undefined {
  const { headers } = event;
  const groupId = headers[GROUP_HEADER];
  if (event.name !== 'CHANNEL_HANGUP_COMPLETE' || !groupId || headers[CONNECTED_HEADER] !== CALL_CONTROL_CONNECTED_VALUE) return undefined;
  const hangupCause = headers['Hangup-Cause'] ?? 'UNKNOWN';
  const createdAtMs = Number(headers['Caller-Channel-Created-Time'] ?? 0) / 1_000;
  const endedAtMs = Number(headers['Caller-Channel-Hangup-Time'] ?? headers['Event-Date-Timestamp'] ?? 0) / 1_000;
  return { groupId, hangupCause, failed: isFailedHangupCause(hangupCause), createdAtMs, endedAtMs };
}

import { endedGroupCall, type EndedGroupCall } from './canary-observation';
import { openEventConnection } from './event-connection';

/** Every call of every group that ends on one media server while the ledger runs. */
export interface CallLedger {
  calls(): readonly EndedGroupCall[];
  stop(): Promise<void>;
}

/**
 * Records, call by call, what a canary judge only counts: which group had each call that ended, its hangup cause and
 * when it began and ended. For the operator-facing demo and the canary benchmark, which report when a bad version
 * failed its first call and how many calls it had before its share reached 0.
 */
export async function startCallLedger(esl: { readonly host: string; readonly port: number; readonly password: string }): Promise<CallLedger> {
  const calls: EndedGroupCall[] = [];
  const hangups = { filters: [['Event-Name', 'CHANNEL_HANGUP_COMPLETE']], events: ['CHANNEL_HANGUP_COMPLETE'] } as const;
  const { client, registered, connected } = openEventConnection(esl, hangups, (event) => {
    const call = endedGroupCall(event);
    if (call) calls.push(call);
  });
  await registered;
  await connected;
  return { calls: () => calls, stop: () => client.close() };
}

import type { CallFlow } from 'voiceplane/call-control';

export interface FrontDeskFlowOptions {
  /** Played to every caller once the call is answered (a FreeSWITCH sound file or path). */
  readonly greeting: string;
  /** Dialled number prefix -> dial string of the desk it rings; the longest matching prefix wins. */
  readonly desks: Readonly<Record<string, string>>;
  /** Played before hanging up on a number no desk serves. */
  readonly unknownNumberPrompt: string;
}

/** Channel variable that records which desk took the call (`none` when no desk serves the number), for CDRs and events. */
export const DESK_VARIABLE = 'example_desk';

/** The desk a dialled number rings: the dial string of the longest prefix that matches, if any. */
export function deskFor(destination: string | undefined, desks: FrontDeskFlowOptions['desks']): string | undefined {
  const prefix = Object.keys(desks)
    .filter((candidate) => destination?.startsWith(candidate))
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? undefined : desks[prefix];
}

/**
 * A front desk: greets the caller, then rings the desk that serves the dialled number, or tells the caller the number
 * is not served and hangs up. Like the default flow it sets `hangup_after_bridge`, so a bridged call outlives this
 * service (an upgrade never cuts a conversation) and ends when the desk hangs up.
 */
export function createFrontDeskFlow(options: FrontDeskFlowOptions): CallFlow {
  return async (call) => {
    await call.answer();
    await call.playback(options.greeting);
    const desk = deskFor(call.destination, options.desks);
    await call.setVariable(DESK_VARIABLE, desk ?? 'none');
    if (desk === undefined) {
      call.log.info('no desk serves the number', { destination: call.destination });
      await call.playback(options.unknownNumberPrompt);
      await call.hangup('UNALLOCATED_NUMBER');
      return;
    }
    await call.setVariable('hangup_after_bridge', 'true');
    await call.bridge(desk);
    await call.ended;
  };
}

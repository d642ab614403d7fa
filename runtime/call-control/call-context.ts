import type { CallEnd, ExecuteOptions, ExecuteResult, OutboundCall } from '../esl';
import type { Logger } from '../shared/logger';

/** What a call flow may do with its call. Every method resolves when FreeSWITCH reports the application complete. */
export interface CallContext {
  readonly uuid: string;
  /** Caller-ID number, as FreeSWITCH reported it on connect. */
  readonly caller?: string;
  /** Dialed number, as FreeSWITCH reported it on connect. */
  readonly destination?: string;
  /** Settles when the call ends (never rejects). */
  readonly ended: Promise<CallEnd>;
  /** Logs with this call's uuid. */
  readonly log: Logger;
  /** A channel variable as reported on connect; unparsed, so validate it before use. */
  variable(name: string): string | undefined;
  /** Runs any dialplan application. */
  execute(app: string, arg?: string, options?: ExecuteOptions): Promise<ExecuteResult>;
  /** Sets a channel variable (`set NAME=VALUE`). */
  setVariable(name: string, value: string): Promise<void>;
  answer(): Promise<void>;
  /** Bridges to a dial string; completes when the bridge ends (or fails). */
  bridge(target: string): Promise<void>;
  playback(file: string): Promise<void>;
  /** Hangs the call up (default cause NORMAL_CLEARING). */
  hangup(cause?: string): Promise<void>;
}

/**
 * A bridge lasts as long as the conversation, so it gets the longest delay a timer can hold (about 24.8 days)
 * rather than the default bound on an application's run.
 */
const BRIDGE_TIMEOUT_MS = 2 ** 31 - 1;

export function createCallContext(call: OutboundCall, log: Logger): CallContext {
  const run = async (app: string, arg?: string, options?: ExecuteOptions): Promise<void> => {
    await call.execute(app, arg, options);
  };
  return {
    uuid: call.uuid,
    caller: call.callerIdNumber,
    destination: call.destinationNumber,
    ended: call.ended,
    log,
    variable: (name) => call.variable(name),
    execute: (app, arg, options) => call.execute(app, arg, options),
    setVariable: (name, value) => call.setVariable(name, value),
    answer: () => run('answer'),
    bridge: (target) => run('bridge', target, { timeoutMs: BRIDGE_TIMEOUT_MS }),
    playback: (file) => run('playback', file),
    hangup: (cause) => call.hangup(cause),
  };
}

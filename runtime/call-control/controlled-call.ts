import { CALL_CONTROL_CONNECTED_VALUE, CALL_CONTROL_CONNECTED_VARIABLE } from '../dialplan';
import type { OutboundCall } from '../esl';
import { createCallContext } from './call-context';
import type { CallFlow } from './call-flow';
import { errorMessage, type Logger, withFields } from '../shared/logger';

/** Why this service let go of a live call. */
export type DetachReason = 'flow-failed' | 'shutdown-deadline';

export interface ControlledCallOptions {
  readonly flow: CallFlow;
  readonly logger: Logger;
  readonly now: () => number;
}

/** One call from connect to its end: marks it connected for the dialplan, runs the flow, logs how it ended. */
export class ControlledCall {
  private readonly log: Logger;
  private readonly startedAt: number;
  private detachReason?: DetachReason;

  constructor(
    private readonly call: OutboundCall,
    private readonly options: ControlledCallOptions,
  ) {
    this.log = withFields(options.logger, { uuid: call.uuid });
    this.startedAt = options.now();
  }

  get uuid(): string {
    return this.call.uuid;
  }

  /** Resolves once the call has ended or been detached, with why it was detached if it was; never rejects. */
  async run(): Promise<DetachReason | undefined> {
    this.log.info('call started', { caller: this.call.callerIdNumber, destination: this.call.destinationNumber });
    try {
      await this.call.setVariable(CALL_CONTROL_CONNECTED_VARIABLE, CALL_CONTROL_CONNECTED_VALUE);
      await this.options.flow(createCallContext(this.call, this.log));
    } catch (error) {
      // Commands fail when the caller hangs up mid-flow or when we detach: that is the call ending, not a fault.
      if (!this.call.hasEnded && this.detachReason === undefined) {
        this.log.error('call flow failed, detaching the call', { error: errorMessage(error) });
        await this.detach('flow-failed');
      }
    }
    const end = await this.call.ended;
    const durationMs = this.options.now() - this.startedAt;
    if (this.detachReason === undefined) this.log.info('call ended', { durationMs, hangupCause: end.hangupCause });
    else this.log.warn('call detached', { durationMs, reason: this.detachReason });
    return this.detachReason;
  }

  /** Lets go of the call without hanging up (`exit`): FreeSWITCH keeps it and the dialplan re-homes it. */
  async detach(reason: DetachReason): Promise<void> {
    if (this.call.hasEnded) return;
    this.detachReason ??= reason;
    await this.call.detach();
  }
}

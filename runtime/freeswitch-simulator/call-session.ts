import { randomUUID } from 'node:crypto';
import { APPLICATIONS, DialplanApplication } from './application-registry';
import { isFsTrue } from './fs-true';
import { Channel } from './channel';
import { DialplanAction } from './dialplan-document';
import { HuntedAction, huntDialplan } from './dialplan-hunter';
import type { EslCommand } from './esl-command-parser';
import type { EslConnection } from './esl-connection';
import { causeFromString } from './hangup-causes';
import type { CallOutcome, ExecutedApplication, SimulatedCore } from './simulated-core';
import { VariableScope, expandVariables } from './variable-expander';

interface TransferTarget {
  readonly extension: string;
  readonly dialplan: string;
  readonly context: string;
}

/** FreeSWITCH refuses to loop through transfers forever; so does the simulator. */
const MAX_TRANSFERS = 100;

/**
 * The session thread of one inbound call: hunts the dialplan, executes the selected applications in
 * order (re-hunting after a transfer), processes messages that call control sends while the channel is
 * parked, and hangs up with NORMAL_CLEARING when the dialplan runs out of actions.
 */
export class CallSession {
  readonly outcome: Promise<CallOutcome>;
  /** Event-socket connections controlling this call (its outbound socket, `myevents UUID` listeners). */
  readonly controllers = new Set<EslConnection>();
  private resolveOutcome: (outcome: CallOutcome) => void = () => undefined;
  private readonly scope: VariableScope;
  private readonly messages: EslCommand[] = [];
  private readonly executed: ExecutedApplication[] = [];
  private wakeUp: (() => void) | undefined;
  private parked = false;
  private pendingTransfer: TransferTarget | undefined;
  private transfers = 0;

  constructor(readonly core: SimulatedCore, readonly channel: Channel) {
    this.outcome = new Promise((resolve) => {
      this.resolveOutcome = resolve;
    });
    this.scope = core.scopeFor(channel);
  }

  get uuid(): string {
    return this.channel.uuid;
  }

  start(durationMs: number | undefined): void {
    if (durationMs !== undefined && Number.isFinite(durationMs)) {
      const cancelCallerHangup = this.core.scheduler.schedule(() => {
        this.channel.hangup(this.channel.isAnswered ? 'NORMAL_CLEARING' : 'ORIGINATOR_CANCEL');
      }, Math.max(0, durationMs));
      this.channel.onHangup(cancelCallerHangup);
    }
    this.channel.onHangup(() => {
      this.wake();
      for (const controller of [...this.controllers]) controller.channelDown();
    });
    this.run().catch((error: unknown) => {
      this.core.log('CRIT', `session ${this.uuid} failed: ${String(error)}`);
      this.channel.hangup('CRASH');
    });
  }

  /** The outcome the caller sees, built once the channel has been reported. */
  finish(): CallOutcome {
    const { createdUs, answeredUs, hangupUs } = this.channel.times;
    const outcome: CallOutcome = {
      uuid: this.uuid,
      hangupCause: this.channel.hangupCause ?? 'NONE',
      answered: this.channel.isAnswered,
      rejected: false,
      durationMs: (hangupUs - createdUs) / 1000,
      billMs: answeredUs > 0 ? (hangupUs - answeredUs) / 1000 : 0,
      variables: Object.fromEntries(this.channel.variables),
      applications: [...this.executed],
    };
    this.resolveOutcome(outcome);
    return outcome;
  }

  expand(text: string): string {
    return expandVariables(text, this.scope);
  }

  private async run(): Promise<void> {
    for (;;) {
      this.channel.state = 'CS_ROUTING';
      const actions = this.hunt();
      if (!this.channel.isUp) return;
      if (actions.length === 0) {
        this.core.log('NOTICE', `No route for ${this.channel.profile.destinationNumber}, aborting`);
        this.channel.hangup('NO_ROUTE_DESTINATION');
        return;
      }
      this.channel.state = 'CS_EXECUTE';
      await this.runActions(actions);
      if (!this.channel.isUp) return;
      if (this.pendingTransfer === undefined) {
        this.channel.hangup('NORMAL_CLEARING');
        return;
      }
      if (!this.applyTransfer()) return;
    }
  }

  private hunt(): HuntedAction[] {
    return huntDialplan(this.core.dialplan, this.channel.profile.context, {
      profileField: (name) => this.channel.profileField(name),
      expand: (text) => this.expand(text),
      runInline: (action) => this.runInline(action),
    });
  }

  private async runActions(actions: readonly HuntedAction[]): Promise<void> {
    for (const action of actions) {
      if (!this.channel.isUp || this.pendingTransfer !== undefined) return;
      await this.executeApplication(action.application, action.data);
    }
  }

  private runInline(action: DialplanAction): void {
    const application = APPLICATIONS.get(action.application);
    if (application === undefined) {
      this.invalidApplication(action.application);
      return;
    }
    if (!application.routingExec) {
      this.core.log('ERR', `${action.application}: this application cannot be executed inline`);
      return;
    }
    void this.runApplication(application, action.application, action.data, undefined);
  }

  /**
   * Executes one application the way switch_core_session_execute_application does: expands its data
   * now, fires CHANNEL_EXECUTE, runs it, fires CHANNEL_EXECUTE_COMPLETE. An unknown application hangs the
   * channel up with DESTINATION_OUT_OF_ORDER.
   */
  async executeApplication(name: string, rawData: string, applicationUuid?: string): Promise<void> {
    const application = APPLICATIONS.get(name);
    if (application === undefined) {
      this.invalidApplication(name);
      return;
    }
    await this.runApplication(application, name, rawData, applicationUuid);
  }

  private invalidApplication(name: string): void {
    this.core.log('ERR', `Invalid Application ${name}`);
    this.channel.hangup('DESTINATION_OUT_OF_ORDER');
  }

  private runApplication(
    application: DialplanApplication,
    name: string,
    rawData: string,
    applicationUuid: string | undefined
  ): void | Promise<void> {
    const channel = this.channel;
    const data = this.expand(rawData);
    const uuid = applicationUuid ?? randomUUID();
    channel.currentApplication = name;
    channel.currentApplicationData = data;
    channel.variables.set('current_application', name);
    if (data === '') channel.variables.delete('current_application_data');
    else channel.variables.set('current_application_data', data);
    channel.variables.delete('current_application_response');
    this.executed.push({ name, data });
    const identity: Array<[string, string]> = [
      ['Application', name],
      ['Application-Data', data],
    ];
    this.core.fireChannelEvent(channel, 'CHANNEL_EXECUTE', [], [...identity, ['Application-UUID', uuid]]);
    const complete = (): void => {
      const response = channel.variables.get('current_application_response') ?? '_none_';
      this.core.fireChannelEvent(
        channel,
        'CHANNEL_EXECUTE_COMPLETE',
        [],
        [...identity, ['Application-Response', response], ['Application-UUID', uuid]]
      );
    };
    const running = application.run({ session: this, channel, core: this.core, data });
    if (running === undefined) {
      complete();
      return undefined;
    }
    return running.then(complete, (error: unknown) => {
      this.core.log('ERR', `${name} failed: ${String(error)}`);
      complete();
    });
  }

  // ---- transfers ----

  /** `transfer EXT [DIALPLAN [CONTEXT]]`: the current extension stops and the dialplan is hunted again. */
  transfer(extension: string, dialplan: string | undefined, context: string | undefined): void {
    this.pendingTransfer = {
      extension,
      dialplan: dialplan === undefined || dialplan === '' ? 'XML' : dialplan,
      context: context === undefined || context === '' ? this.channel.profile.context : context,
    };
    this.wake();
  }

  private applyTransfer(): boolean {
    const target = this.pendingTransfer;
    this.pendingTransfer = undefined;
    if (target === undefined) return false;
    if (++this.transfers > MAX_TRANSFERS) {
      this.channel.hangup('EXCHANGE_ROUTING_ERROR');
      return false;
    }
    // Re-entering routing releases the channel's limit tags unless it asked to keep them (switch_limit.c).
    if (!isFsTrue(this.channel.variables.get('limit_ignore_transfer'))) this.core.releaseLimits(this.uuid);
    const profile = this.channel.profile;
    this.channel.variables.set('transfer_source', `${Math.floor(this.core.nowUs() / 1e6)}:${this.uuid}`);
    profile.destinationNumber = target.extension;
    profile.dialplan = target.dialplan;
    profile.context = target.context;
    this.channel.times.transferUs = this.core.nowUs();
    return true;
  }

  /** `execute_extension EXT [DIALPLAN [CONTEXT]]`: hunts EXT now, runs what it selects, then returns. */
  async executeExtension(extension: string, context: string | undefined): Promise<void> {
    const profile = this.channel.profile;
    const saved = { destinationNumber: profile.destinationNumber, context: profile.context };
    profile.destinationNumber = extension;
    if (context !== undefined && context !== '') profile.context = context;
    try {
      const actions = this.hunt();
      if (actions.length === 0) {
        this.core.log('WARNING', `Extension ${extension} not found`);
        return;
      }
      await this.runActions(actions);
    } finally {
      if (this.pendingTransfer === undefined) {
        profile.destinationNumber = saved.destinationNumber;
        profile.context = saved.context;
      }
    }
  }

  // ---- park and call-control messages ----

  /**
   * Parks the channel: it waits, executing messages sent to it (sendmsg) one at a time and in order,
   * until it hangs up, is transferred, or `leaveWhen` holds with no message left.
   */
  async park(leaveWhen: () => boolean): Promise<void> {
    // switch_ivr_park refuses a channel already under control (CF_CONTROLLED): a `park` that call control
    // sends to its own parked channel returns at once, so the socket app's park alone decides when it leaves.
    if (this.parked) {
      this.core.log('ERR', `${this.uuid} Cannot park channels that are under control already.`);
      return;
    }
    this.parked = true;
    try {
      await this.holdInPark(leaveWhen);
    } finally {
      this.parked = false;
    }
  }

  private async holdInPark(leaveWhen: () => boolean): Promise<void> {
    this.core.fireChannelEvent(this.channel, 'CHANNEL_PARK');
    while (this.channel.isUp && this.pendingTransfer === undefined) {
      const message = this.messages.shift();
      if (message !== undefined) {
        await this.processMessage(message);
        continue;
      }
      if (leaveWhen()) break;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
    }
    if (this.channel.isUp) this.core.fireChannelEvent(this.channel, 'CHANNEL_UNPARK');
  }

  /** Re-evaluates a waiting park (new message, hangup, transfer, controller gone). */
  wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /** A sendmsg for a session not executing it inline: hangups act at once, the rest waits for park. */
  queueMessage(message: EslCommand): void {
    if ((message.header('call-command') ?? '').toLowerCase() === 'hangup') {
      void this.processMessage(message);
      return;
    }
    this.messages.push(message);
    this.wake();
  }

  /** switch_ivr_parse_event for the call-commands call control uses: execute and hangup. */
  async processMessage(message: EslCommand): Promise<void> {
    const command = (message.header('call-command') ?? '').toLowerCase();
    if (command === 'hangup') {
      const cause = message.header('hangup-cause');
      this.channel.hangup(cause === undefined || cause === '' ? 'NORMAL_CLEARING' : causeFromString(cause));
      return;
    }
    if (command !== 'execute') return;
    const name = message.header('execute-app-name') ?? '';
    const data = message.header('execute-app-arg') ?? message.body;
    const loops = Math.max(1, parseInt(message.header('loops') ?? '1', 10) || 1);
    for (let i = 0; i < loops && this.channel.isUp; i++) {
      await this.executeApplication(name, data, message.header('Event-UUID'));
    }
  }

  /** Waits `ms` of (simulator) time, or less if the channel hangs up first. */
  waitMs(ms: number): Promise<void> {
    if (!this.channel.isUp || !(ms > 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const cancelTimer = this.core.scheduler.schedule(
        () => {
          stopWaitingForHangup();
          resolve();
        },
        ms,
        resolve
      );
      const stopWaitingForHangup = this.channel.onHangup(() => {
        cancelTimer();
        resolve();
      });
    });
  }
}

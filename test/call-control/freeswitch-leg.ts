import { CALL_LINGER_SECONDS } from '../../runtime/call-control/call-control-service';
import { channelDataReply, commandReply, disconnectNotice, plainEvent, type ReceivedCommand } from '../esl/esl-wire';
import { FakeFreeSwitchChannel } from '../esl/fake-freeswitch-channel';

export const CALL_UUID = '0b6f2a52-6d1e-4f6a-9d0e-3c1f7e2a9b41';

export const CALL_HEADERS: Readonly<Record<string, string>> = {
  'Unique-ID': CALL_UUID,
  'Caller-Caller-ID-Number': '+15557654321',
  'Caller-Destination-Number': '2000',
  variable_vp_cc_group: 'blue',
};

/** Plays the FreeSWITCH side of one call's outbound socket (the dialplan `socket ... async full` application). */
export class FreeSwitchLeg {
  private constructor(
    readonly channel: FakeFreeSwitchChannel,
    readonly uuid: string,
  ) {}

  /** Connects to the service and completes connect/myevents/linger, so the call reaches the service's flow. */
  static async dial(port: number, headers: Readonly<Record<string, string>> = CALL_HEADERS): Promise<FreeSwitchLeg> {
    const channel = await FakeFreeSwitchChannel.connect(port);
    expect((await channel.nextCommand()).line).toBe('connect');
    channel.write(channelDataReply({ ...headers }));
    expect((await channel.nextCommand()).line).toBe('myevents');
    channel.write(commandReply('+OK Events Enabled'));
    expect((await channel.nextCommand()).line).toBe(`linger ${CALL_LINGER_SECONDS}`);
    channel.write(commandReply(`+OK will linger ${CALL_LINGER_SECONDS} seconds`));
    return new FreeSwitchLeg(channel, headers['Unique-ID']);
  }

  /** Waits for the next `sendmsg execute`, checks it, accepts it and, unless told otherwise, reports it complete. */
  async expectExecute(app: string, arg?: string, { complete = true } = {}): Promise<ReceivedCommand> {
    const command = await this.channel.nextCommand();
    expect(command.line).toBe(`sendmsg ${this.uuid}`);
    expect(command.headers).toMatchObject({ 'call-command': 'execute', 'execute-app-name': app });
    expect(command.headers['execute-app-arg']).toBe(arg);
    this.channel.write(commandReply('+OK'));
    if (complete) this.complete(app, command);
    return command;
  }

  /** Reports an application accepted by `expectExecute(..., {complete: false})` as complete. */
  complete(app: string, command: ReceivedCommand): void {
    this.channel.write(
      plainEvent({
        'Event-Name': 'CHANNEL_EXECUTE_COMPLETE',
        'Unique-ID': this.uuid,
        Application: app,
        'Application-Response': '_none_',
        'Application-UUID': command.headers['Event-UUID'],
      }),
    );
  }

  /** The caller hangs up: linger notice, hangup event (the service then closes the socket), socket closed. */
  hangUp(cause = 'NORMAL_CLEARING'): void {
    this.channel.write(disconnectNotice('linger'));
    this.channel.write(plainEvent({ 'Event-Name': 'CHANNEL_HANGUP', 'Unique-ID': this.uuid, 'Hangup-Cause': cause }));
    this.channel.end();
  }

  /** Expects the service to let go with `exit` (never a hangup), and plays FreeSWITCH's answer to it. */
  async expectDetach(): Promise<void> {
    const command = await this.channel.nextCommand();
    expect(command.line).toBe('exit');
    this.channel.write(commandReply('+OK bye') + disconnectNotice());
    this.channel.end();
    await this.channel.closed;
  }
}

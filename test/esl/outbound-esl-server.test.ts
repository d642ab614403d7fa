import {
  EslCommandError,
  EslConnectionError,
  EslProtocolError,
  OutboundEslServer,
  type OutboundCall,
  type OutboundEslServerOptions,
} from '../../runtime/esl';
import { waitFor } from '../support/wait-for';
import { channelDataReply, commandReply, disconnectNotice, plainEvent } from './esl-wire';
import { FakeFreeSwitchChannel } from './fake-freeswitch-channel';

const CALL_UUID = '5f1a6c3e-3c47-4d1e-9f0a-8b0e6a1d2c3b';

const CALLER = {
  'Unique-ID': CALL_UUID,
  'Caller-Caller-ID-Name': 'André Dupont',
  'Caller-Caller-ID-Number': '+15551234567',
  'Caller-Destination-Number': '1000',
  'variable_call_control_group': 'blue',
};

const servers: OutboundEslServer[] = [];
const channels: FakeFreeSwitchChannel[] = [];

async function listen(onCall: OutboundEslServerOptions['onCall'], extra: Partial<OutboundEslServerOptions> = {}) {
  const server = await OutboundEslServer.listen({ host: '127.0.0.1', port: 0, onCall, ...extra });
  servers.push(server);
  return server;
}

async function dial(server: OutboundEslServer): Promise<FakeFreeSwitchChannel> {
  const channel = await FakeFreeSwitchChannel.connect(server.port);
  channels.push(channel);
  return channel;
}

/** Plays FreeSWITCH up to the point the call is handed to the handler. */
async function answerSetup(channel: FakeFreeSwitchChannel, headers: Record<string, string> = CALLER): Promise<void> {
  expect((await channel.nextCommand()).line).toBe('connect');
  channel.write(channelDataReply(headers));
  expect((await channel.nextCommand()).line).toBe('myevents');
  channel.write(commandReply('+OK Events Enabled'));
}

function executeComplete(application: string, applicationUuid: string, response = '_none_'): string {
  return plainEvent({
    'Event-Name': 'CHANNEL_EXECUTE_COMPLETE',
    'Unique-ID': CALL_UUID,
    Application: application,
    'Application-Response': response,
    'Application-UUID': applicationUuid,
  });
}

afterEach(async () => {
  channels.splice(0).forEach((channel) => channel.destroy());
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('OutboundEslServer', () => {
  it('hands over a call with its channel data, runs applications in order and settles `ended` on hangup', async () => {
    const calls: OutboundCall[] = [];
    const completed: string[] = [];
    const server = await listen(async (call) => {
      calls.push(call);
      const answer = call.execute('answer').then((result) => completed.push(`answer:${result.response}`));
      const playback = call.execute('playback', 'ivr/welcome.wav').then((result) => completed.push(`playback:${result.response}`));
      await Promise.all([answer, playback]);
    });
    expect(server.port).toBeGreaterThan(0);
    const channel = await dial(server);
    await answerSetup(channel);
    await waitFor(() => calls.length === 1, { message: 'the call to reach the handler' });
    const call = calls[0];
    expect(call.uuid).toBe(CALL_UUID);
    expect(call.callerIdNumber).toBe('+15551234567');
    expect(call.destinationNumber).toBe('1000');
    expect(call.variable('call_control_group')).toBe('blue');
    expect(call.channelData['Caller-Caller-ID-Name']).toBe('André Dupont');

    const answer = await channel.nextCommand();
    expect(answer.line).toBe(`sendmsg ${CALL_UUID}`);
    expect(answer.headers).toMatchObject({ 'call-command': 'execute', 'execute-app-name': 'answer' });
    expect(answer.headers['execute-app-arg']).toBeUndefined();
    channel.write(commandReply('+OK'));
    const playback = await channel.nextCommand();
    expect(playback.headers).toMatchObject({ 'execute-app-name': 'playback', 'execute-app-arg': 'ivr/welcome.wav' });
    expect(playback.headers['Event-UUID']).not.toBe(answer.headers['Event-UUID']);
    channel.write(commandReply('+OK'));

    channel.write(executeComplete('answer', answer.headers['Event-UUID']) + executeComplete('playback', playback.headers['Event-UUID'], 'FILE PLAYED'));
    await waitFor(() => completed.length === 2, { message: 'both applications to complete' });
    expect(completed).toEqual(['answer:_none_', 'playback:FILE PLAYED']);
    expect(server.activeCalls).toBe(1);

    channel.write(plainEvent({ 'Event-Name': 'CHANNEL_HANGUP', 'Unique-ID': CALL_UUID, 'Hangup-Cause': 'NORMAL_CLEARING' }));
    channel.write(disconnectNotice('disconnect'));
    channel.end();
    await expect(call.ended).resolves.toEqual({ hangupCause: 'NORMAL_CLEARING' });
    await waitFor(() => server.activeCalls === 0, { message: 'the call to be forgotten' });
  });

  it('matches completions by Application-UUID, not by order of arrival', async () => {
    const results: string[] = [];
    const server = await listen(async (call) => {
      await Promise.all([
        call.execute('set', 'a=1').then(() => results.push('first')),
        call.execute('set', 'b=2').then(() => results.push('second')),
      ]);
    });
    const channel = await dial(server);
    await answerSetup(channel);
    const first = await channel.nextCommand();
    channel.write(commandReply('+OK'));
    const second = await channel.nextCommand();
    channel.write(commandReply('+OK'));
    channel.write(executeComplete('set', second.headers['Event-UUID']));
    await waitFor(() => results.length === 1, { message: 'the second application' });
    channel.write(executeComplete('set', 'someone-elses-uuid') + executeComplete('set', first.headers['Event-UUID']));
    await waitFor(() => results.length === 2, { message: 'the first application' });
    expect(results).toEqual(['second', 'first']);
  });

  it('sets variables and hangs up with a cause', async () => {
    const outcome: string[] = [];
    const server = await listen(async (call) => {
      await call.setVariable('call_control_group', 'green');
      await call.hangup('USER_BUSY');
      outcome.push('hung up');
    });
    const channel = await dial(server);
    await answerSetup(channel);
    const set = await channel.nextCommand();
    expect(set.headers).toMatchObject({ 'execute-app-name': 'set', 'execute-app-arg': 'call_control_group=green' });
    channel.write(commandReply('+OK'));
    channel.write(executeComplete('set', set.headers['Event-UUID']));
    const hangup = await channel.nextCommand();
    expect(hangup.line).toBe(`sendmsg ${CALL_UUID}`);
    expect(hangup.headers).toEqual({ 'call-command': 'hangup', 'hangup-cause': 'USER_BUSY' });
    channel.write(commandReply('+OK'));
    await waitFor(() => outcome.length === 1, { message: 'hangup to be accepted' });
  });

  it('rejects execute when FreeSWITCH refuses the sendmsg, and fails pending ones when the call ends', async () => {
    const failures: unknown[] = [];
    const server = await listen(async (call) => {
      await call.execute('answer').catch((error: unknown) => failures.push(error));
      await call.execute('playback', 'long.wav').catch((error: unknown) => failures.push(error));
    });
    const channel = await dial(server);
    await answerSetup(channel);
    await channel.nextCommand();
    channel.write(commandReply(`-ERR invalid session id [${CALL_UUID}]`));
    await channel.nextCommand();
    channel.write(commandReply('+OK'));
    channel.write(disconnectNotice('disconnect'));
    await waitFor(() => failures.length === 2, { message: 'both executes to fail' });
    expect(failures[0]).toBeInstanceOf(EslCommandError);
    expect((failures[0] as Error).message).toContain('-ERR invalid session id');
    expect(failures[1]).toBeInstanceOf(EslConnectionError);
    expect((failures[1] as Error).message).toMatch(/call hung up.*'execute playback long.wav'/);
  });

  it('settles `ended` when FreeSWITCH just closes the socket', async () => {
    const calls: OutboundCall[] = [];
    const server = await listen((call) => void calls.push(call));
    const channel = await dial(server);
    await answerSetup(channel);
    await waitFor(() => calls.length === 1, { message: 'the call' });
    channel.destroy();
    await expect(calls[0].ended).resolves.toEqual({});
  });

  it('sends linger after myevents when asked to', async () => {
    const server = await listen(() => undefined, { lingerSeconds: 30 });
    const channel = await dial(server);
    expect((await channel.nextCommand()).line).toBe('connect');
    channel.write(channelDataReply(CALLER));
    expect((await channel.nextCommand()).line).toBe('myevents');
    channel.write(commandReply('+OK Events Enabled'));
    expect((await channel.nextCommand()).line).toBe('linger 30');
    channel.write(commandReply('+OK will linger 30 seconds'));
  });

  it('isolates failing calls: bad channel data, a silent peer and a throwing handler do not affect a good call', async () => {
    const errors: Array<[Error, OutboundCall | undefined]> = [];
    const handled: string[] = [];
    const server = await listen(
      async (call) => {
        if (call.destinationNumber === 'crash') throw new Error('handler bug');
        await call.execute('answer');
        handled.push(call.uuid);
      },
      { connectTimeoutMs: 200 },
    );
    server.on('callError', (error, call) => errors.push([error, call]));

    const good = await dial(server);
    const garbled = await dial(server);
    const silent = await dial(server);
    const crashing = await dial(server);

    expect((await garbled.nextCommand()).line).toBe('connect');
    garbled.write(channelDataReply({ 'Caller-Destination-Number': '1000' })); // no Unique-ID
    await answerSetup(crashing, { ...CALLER, 'Unique-ID': 'crash-uuid', 'Caller-Destination-Number': 'crash' });
    await answerSetup(good);

    const answer = await good.nextCommand();
    good.write(commandReply('+OK') + executeComplete('answer', answer.headers['Event-UUID']));
    await waitFor(() => handled.length === 1, { message: 'the good call to be answered' });
    await waitFor(() => errors.length === 3, { message: 'three call errors' });
    expect(errors.map(([error]) => error.constructor)).toEqual(
      expect.arrayContaining([EslProtocolError, EslConnectionError, Error]),
    );
    expect(errors.find(([error]) => error.message === 'handler bug')?.[1]?.uuid).toBe('crash-uuid');
    // a failed call's socket is closed, so FreeSWITCH continues that call's dialplan
    await Promise.all([garbled.closed, silent.closed]);
    expect((await crashing.nextCommand()).line).toBe('exit');
    expect(good.isClosed).toBe(false);
  });

  it('close waits for calls in progress, then detaches what is left and refuses new connections', async () => {
    const calls: OutboundCall[] = [];
    const server = await listen((call) => void calls.push(call));
    const first = await dial(server);
    const second = await dial(server);
    await answerSetup(first);
    await answerSetup(second, { ...CALLER, 'Unique-ID': 'second-uuid' });
    await waitFor(() => calls.length === 2, { message: 'two calls' });

    const closing = server.close({ waitForCallsMs: 5000 });
    await expect(FakeFreeSwitchChannel.connect(server.port)).rejects.toThrow(/ECONNREFUSED/);
    first.write(plainEvent({ 'Event-Name': 'CHANNEL_HANGUP', 'Unique-ID': CALL_UUID, 'Hangup-Cause': 'NORMAL_CLEARING' }));
    first.write(disconnectNotice('disconnect'));
    first.end();
    second.write(plainEvent({ 'Event-Name': 'CHANNEL_HANGUP', 'Unique-ID': 'second-uuid', 'Hangup-Cause': 'ORIGINATOR_CANCEL' }));
    await expect(calls[1].ended).resolves.toEqual({ hangupCause: 'ORIGINATOR_CANCEL' });
    // the second call lingers on its socket: close detaches it with `exit`
    expect((await second.nextCommand()).line).toBe('exit');
    second.end();
    await closing;
    expect(server.activeCalls).toBe(0);
  });
});

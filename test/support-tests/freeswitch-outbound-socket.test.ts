import { AddressInfo, Server, createServer } from 'node:net';
import { FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { OutboundTestServer } from '../support/freeswitch/outbound-test-server';
import { RawEslClient } from '../support/freeswitch/raw-esl-client';
import { waitFor } from '../support/wait-for';

const GOODBYE_BODY = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

/** The route a media server uses: tag the call, count it, hand it to call control, else refuse it. */
function callControlDialplan(socketData: string): string {
  return `
<include>
  <context name="default">
    <extension name="call-control">
      <condition field="destination_number" expression="^(\\d+)$">
        <action application="set" data="cc_group=blue"/>
        <action application="limit" data="hash cc blue"/>
        <action application="socket" data="${socketData}"/>
        <action application="respond" data="503"/>
      </condition>
    </extension>
  </context>
</include>`;
}

/** A port on which nothing listens, so connecting is refused. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function connectAndSubscribe(callControl: RawEslClient): Promise<void> {
  callControl.send('connect');
  await callControl.nextFrame();
  expect((await callControl.command('myevents')).header('Reply-Text')).toBe('+OK Events Enabled');
}

function execute(callControl: RawEslClient, app: string, arg: string, eventUuid: string): Promise<unknown> {
  return callControl.command('sendmsg', {
    'call-command': 'execute',
    'execute-app-name': app,
    'execute-app-arg': arg,
    'Event-UUID': eventUuid,
  });
}

describe('FreeSWITCH simulator: outbound socket application', () => {
  let simulator: FreeSwitchSimulator;
  let callControl: OutboundTestServer;
  let spare: OutboundTestServer | undefined;

  async function startSimulator(socketData: string, options: { connectTimeoutMs?: number } = {}): Promise<void> {
    simulator = new FreeSwitchSimulator({ dialplanXml: callControlDialplan(socketData), ...options });
    await simulator.start();
  }

  beforeEach(async () => {
    callControl = await OutboundTestServer.start();
  });

  afterEach(async () => {
    await simulator.stop();
    await callControl.close();
    await spare?.close();
    spare = undefined;
  });

  it('hands the call to call control, which answers and hangs it up over sendmsg', async () => {
    await startSimulator(`${callControl.target} async full`);
    const call = simulator.placeCall({ destination: '1000', callerIdNumber: '5551000', durationMs: 5000 });
    const session = await callControl.nextConnection();

    session.send('connect');
    const channelData = await session.nextFrame();
    expect(channelData.header('Content-Type')).toBe('command/reply');
    expect(channelData.header('Reply-Text')).toBe('%2BOK%0A');
    expect(channelData.header('Socket-Mode')).toBe('async');
    expect(channelData.header('Control')).toBe('full');
    expect(channelData.header('Content-Length')).toBeUndefined();
    expect(channelData.header('Event-Name')).toBe('CHANNEL_DATA');
    expect(channelData.header('Unique-ID')).toBe(call.uuid);
    expect(channelData.header('Channel-Call-UUID')).toBe(call.uuid);
    expect(channelData.header('Caller-Caller-ID-Number')).toBe('5551000');
    expect(channelData.header('Caller-Destination-Number')).toBe('1000');
    expect(channelData.header('variable_cc_group')).toBe('blue');
    expect(
      channelData.raw.endsWith(
        'Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n'
      )
    ).toBe(true);

    expect((await session.command('myevents')).header('Reply-Text')).toBe('+OK Events Enabled');
    expect((await execute(session, 'answer', '', 'answer-1')) as { raw: string }).toMatchObject({
      raw: 'Content-Type: command/reply\nReply-Text: +OK\n\n',
    });
    const started = (await session.nextEvent('CHANNEL_EXECUTE')).eventHeaders();
    expect(started.get('Application')).toBe('answer');
    expect(started.get('Application-UUID')).toBe('answer-1');
    expect((await session.nextEvent('CHANNEL_ANSWER')).eventHeaders().get('Unique-ID')).toBe(call.uuid);
    const completed = (await session.nextEvent('CHANNEL_EXECUTE_COMPLETE')).eventHeaders();
    expect(completed.get('Application-UUID')).toBe('answer-1');
    expect(completed.get('Application-Response')).toBe('_none_');
    expect(simulator.api('limit_usage hash cc blue')).toBe('1');

    await session.command('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'USER_BUSY' });
    expect((await session.nextEvent('CHANNEL_HANGUP')).eventHeaders().get('Hangup-Cause')).toBe('USER_BUSY');
    expect((await session.nextFrame()).raw).toBe(
      'Content-Type: text/disconnect-notice\n' +
        `Controlled-Session-UUID: ${call.uuid}\n` +
        'Content-Disposition: disconnect\n' +
        `Content-Length: 67\n\n${GOODBYE_BODY}`
    );
    await session.closed;

    const outcome = await call.outcome;
    expect(outcome).toMatchObject({ hangupCause: 'USER_BUSY', answered: true, rejected: false });
    expect(outcome.variables.cc_group).toBe('blue');
    expect(outcome.applications.map((app) => app.name)).toEqual(['set', 'limit', 'socket', 'answer']);
    expect(simulator.api('limit_usage hash cc blue')).toBe('0');
  });

  it('announces the hangup to a lingering socket and keeps sending it events', async () => {
    await startSimulator(`${callControl.target} async full`);
    const call = simulator.placeCall({ destination: '1000' });
    const session = await callControl.nextConnection();
    await connectAndSubscribe(session);
    expect((await session.command('linger')).header('Reply-Text')).toBe('+OK will linger');

    await session.command('sendmsg', { 'call-command': 'hangup' });
    const notice = await session.nextFrame((frame) => frame.contentType === 'text/disconnect-notice');
    expect(notice.raw).toBe(
      'Content-Type: text/disconnect-notice\n' +
        `Controlled-Session-UUID: ${call.uuid}\n` +
        'Content-Disposition: linger\n' +
        `Channel-Name: sofia/internal/0000000000@127.0.0.1\n` +
        'Linger-Time: -1\n' +
        'Content-Length: 0\n\n'
    );
    const complete = (await session.nextEvent('CHANNEL_HANGUP_COMPLETE')).eventHeaders();
    expect(complete.get('Hangup-Cause')).toBe('NORMAL_CLEARING');
    expect(complete.get('variable_billsec')).toBe('0');

    expect((await session.command('exit')).header('Reply-Text')).toBe('+OK bye');
    const goodbye = await session.nextFrame((frame) => frame.contentType === 'text/disconnect-notice');
    expect(goodbye.header('Content-Disposition')).toBe('disconnect');
    await session.closed;
  });

  it('offers only call-control commands without full; the dialplan goes on once the socket closes', async () => {
    await startSimulator(`${callControl.target} async`);
    const call = simulator.placeCall({ destination: '1000', durationMs: 5000 });
    const session = await callControl.nextConnection();
    session.send('connect');
    expect((await session.nextFrame()).header('Control')).toBe('single-channel');

    for (const refused of ['api status', 'event plain ALL', 'linger', 'bgapi status']) {
      expect((await session.command(refused)).header('Reply-Text')).toBe('-ERR command not found');
    }
    expect((await session.command('getvar cc_group')).header('Reply-Text')).toBe('blue');
    expect((await session.command('getvar never_set')).header('Reply-Text')).toBe('-ERR command not found');
    expect((await session.command('exit')).header('Reply-Text')).toBe('+OK bye');
    await session.closed;

    const outcome = await call.outcome;
    expect(outcome.hangupCause).toBe('NORMAL_TEMPORARY_FAILURE');
    expect(outcome.applications.map((app) => app.name)).toEqual(['set', 'limit', 'socket', 'respond']);
  });

  it('fails over to the next target when the first one refuses the connection', async () => {
    const refused = await closedPort();
    await startSimulator(`127.0.0.1:${refused}|${callControl.target} async full`);
    const call = simulator.placeCall({ destination: '1000' });
    const session = await callControl.nextConnection();
    session.send('connect');
    expect((await session.nextFrame()).header('Unique-ID')).toBe(call.uuid);
    await session.command('sendmsg', { 'call-command': 'hangup' });
    expect((await call.outcome).hangupCause).toBe('NORMAL_CLEARING');
  });

  it('stalls on an unreachable target for the connect timeout before trying the next one', async () => {
    spare = await OutboundTestServer.start();
    await startSimulator(`${spare.target}|${callControl.target} async full`, { connectTimeoutMs: 150 });
    simulator.setUnreachable(spare.target, true);
    const placedAt = Date.now();
    simulator.placeCall({ destination: '1000', durationMs: 1000 });
    const session = await callControl.nextConnection();
    expect(Date.now() - placedAt).toBeGreaterThanOrEqual(140);
    expect(spare.connectionCount).toBe(0);
    session.send('connect');
    await session.nextFrame();
  });

  it('continues with the fallback action when no target connects', async () => {
    const refused = await closedPort();
    await startSimulator(`127.0.0.1:${refused}|127.0.0.1:${callControl.port + 0} async full`, { connectTimeoutMs: 50 });
    simulator.setUnreachable(callControl.target, true);
    const outcome = await simulator.placeCall({ destination: '1000', durationMs: 5000 }).outcome;
    expect(outcome).toMatchObject({ hangupCause: 'NORMAL_TEMPORARY_FAILURE', answered: false });
    expect(outcome.applications.map((app) => app.name)).toEqual(['set', 'limit', 'socket', 'respond']);
    expect(outcome.variables.socket_host).toBe('127.0.0.1');
    expect(callControl.connectionCount).toBe(0);
  });

  it('keeps a bridged call up when its call-control socket goes away', async () => {
    await startSimulator(`${callControl.target} async full`);
    const call = simulator.placeCall({ destination: '1000', durationMs: 400 });
    const session = await callControl.nextConnection();
    await connectAndSubscribe(session);
    await execute(session, 'bridge', 'sofia/gateway/pstn/15550001', 'bridge-1');
    const bridged = (await session.nextEvent('CHANNEL_BRIDGE')).eventHeaders();
    expect(bridged.get('Bridge-A-Unique-ID')).toBe(call.uuid);

    await session.close();
    await waitFor(() => simulator.stats().eslConnections === 0, { message: 'the simulator noticed the socket closed' });
    expect(simulator.channels().map((channel) => channel.uuid)).toContain(call.uuid);
    expect(simulator.stats()).toMatchObject({ activeChannels: 2, activeCalls: 1 });

    const outcome = await call.outcome;
    expect(outcome).toMatchObject({ hangupCause: 'NORMAL_CLEARING', answered: true });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(400);
    expect(outcome.applications.map((app) => app.name)).toEqual(['set', 'limit', 'socket', 'bridge']);
    await waitFor(() => simulator.stats().activeChannels === 0, { message: 'both legs gone' });
  });

  it('runs sendmsg inline on a static socket and replies once the application is done', async () => {
    await startSimulator(`${callControl.target} full`);
    const call = simulator.placeCall({ destination: '1000', durationMs: 5000 });
    const session = await callControl.nextConnection();
    session.send('connect');
    expect((await session.nextFrame()).header('Socket-Mode')).toBe('static');
    await session.command('myevents');

    const sentAt = Date.now();
    await execute(session, 'playback', 'silence_stream://30', 'play-1');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(25);
    const completed = (await session.nextEvent('CHANNEL_EXECUTE_COMPLETE')).eventHeaders();
    expect(completed.get('Application-Response')).toBe('FILE PLAYED');

    await session.command('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'CALL_REJECTED' });
    expect((await call.outcome).hangupCause).toBe('CALL_REJECTED');
  });
});

interface ModeslEvent {
  getHeader(name: string): string | undefined;
}

interface ModeslOutboundConnection {
  getInfo(): ModeslEvent;
  execute(app: string, arg: string, callback: (event: ModeslEvent) => void): void;
}

interface ModeslServer {
  on(event: 'connection::ready', listener: (connection: ModeslOutboundConnection) => void): void;
}

interface ModeslModule {
  Server: new (options: { server: Server; myevents: boolean }) => ModeslServer;
}

// modesl ships no type declarations; this is the slice of its outbound API the test drives.
const modesl = require('modesl') as ModeslModule;

describe('FreeSWITCH simulator with a modesl outbound server', () => {
  it('lets a modesl call-control app read the channel data and execute applications', async () => {
    const netServer = createServer();
    await new Promise<void>((resolve) => netServer.listen(0, '127.0.0.1', resolve));
    const port = (netServer.address() as AddressInfo).port;
    const eslServer = new modesl.Server({ server: netServer, myevents: true });
    eslServer.on('connection::ready', (connection) => {
      connection.execute('answer', '', () => {
        connection.execute('hangup', 'NORMAL_UNSPECIFIED', () => undefined);
      });
    });
    const simulator = new FreeSwitchSimulator({ dialplanXml: callControlDialplan(`127.0.0.1:${port} async full`) });
    await simulator.start();
    try {
      const outcome = await simulator.placeCall({ destination: '1000', durationMs: 5000 }).outcome;
      expect(outcome).toMatchObject({ hangupCause: 'NORMAL_UNSPECIFIED', answered: true });
      expect(outcome.applications.map((app) => app.name)).toEqual(['set', 'limit', 'socket', 'answer', 'hangup']);
    } finally {
      await simulator.stop();
      await new Promise<void>((resolve) => netServer.close(() => resolve()));
    }
  });
});

import { createServer, type AddressInfo, type Server } from 'net';
import {
  EslAuthError,
  EslClient,
  EslCommandError,
  EslConnectionError,
  EslNoReplyError,
  EslSyntaxError,
  EslTimeoutError,
  EslUsageError,
  type EslEvent,
} from '../../runtime/esl';
import { waitFor } from '../support/wait-for';
import { apiResponse, jsonEvent, plainEvent, plainEventFromLines } from './esl-wire';
import { REPLY_WRITTEN, ScriptedEslPeer, type ApiAnswer, type PeerConnection } from './scripted-esl-peer';

const STATUS = 'UP 0 years, 0 days, 1 hour\nFreeSWITCH (Version 1.10.12) is ready\n3 session(s) since startup\n';

const peers: ScriptedEslPeer[] = [];
const clients: EslClient[] = [];
const servers: Server[] = [];

async function startPeer(api?: (command: string, connection: PeerConnection) => ApiAnswer | undefined, password?: string) {
  const peer = await ScriptedEslPeer.start({ api, password });
  peers.push(peer);
  return peer;
}

async function connect(peer: ScriptedEslPeer, overrides: Partial<Parameters<typeof EslClient.connect>[0]> = {}) {
  const client = await EslClient.connect({ host: '127.0.0.1', port: peer.port, password: 'ClueCon', ...overrides });
  clients.push(client);
  return client;
}

function connectionOf(peer: ScriptedEslPeer): PeerConnection {
  const connection = peer.lastConnection;
  if (!connection) throw new Error('no connection to the peer');
  return connection;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.stop()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('EslClient: connecting', () => {
  it('authenticates and returns api bodies', async () => {
    const peer = await startPeer((command) => (command === 'status' ? STATUS : undefined));
    const client = await connect(peer);
    await expect(client.api('status')).resolves.toBe(STATUS);
    expect(connectionOf(peer).commandLines).toEqual(['auth ClueCon', 'api status']);
  });

  it('rejects a wrong password with EslAuthError', async () => {
    const peer = await startPeer(undefined, 'secret');
    const failure = connect(peer, { password: 'wrong' });
    await expect(failure).rejects.toBeInstanceOf(EslAuthError);
    await expect(failure).rejects.toThrow(`ESL authentication to 127.0.0.1:${peer.port} failed: -ERR invalid`);
  });

  it('rejects a refused connection with EslConnectionError', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const failure = EslClient.connect({ host: '127.0.0.1', port, password: 'ClueCon', connectTimeoutMs: 2000 });
    await expect(failure).rejects.toBeInstanceOf(EslConnectionError);
    await expect(failure).rejects.toThrow(/ECONNREFUSED/);
  });

  it('gives up on a server that accepts TCP but never greets, after connectTimeoutMs', async () => {
    const silent = createServer((socket) => socket.on('error', () => undefined));
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const startedAt = Date.now();
    const failure = EslClient.connect({ host: '127.0.0.1', port, password: 'ClueCon', connectTimeoutMs: 150 });
    await expect(failure).rejects.toThrow(EslConnectionError);
    await expect(failure).rejects.toThrow('did not complete the ESL handshake within 150 ms');
    expect(Date.now() - startedAt).toBeLessThan(2000);
    await waitFor(async () => (await new Promise<number>((resolve) => silent.getConnections((_, n) => resolve(n)))) === 0, {
      message: 'the client to drop the silent connection',
    });
  });
});

describe('EslClient: replies', () => {
  const answers: Record<string, string> = {
    'uuid_kill 123': '-ERR No such channel!\n',
    'uuid_kill': '-USAGE: <uuid> [cause]\n',
    'db insert/oops': '!err!',
    'db select/calls/missing': '-ERR no reply\n',
  };

  it.each([
    ['uuid_kill 123', EslCommandError, "ESL command 'api uuid_kill 123' failed: -ERR No such channel!"],
    ['uuid_kill', EslUsageError, "ESL command 'api uuid_kill' was used wrongly: -USAGE: <uuid> [cause]"],
    ['db insert/oops', EslSyntaxError, "ESL command 'api db insert/oops' has a syntax error: !err!"],
    ['db select/calls/missing', EslNoReplyError, "ESL command 'api db select/calls/missing' produced no output (-ERR no reply)"],
    ['frobnicate', EslCommandError, "ESL command 'api frobnicate' failed: -ERR frobnicate Command not found!"],
  ])('api %s rejects with the matching typed error', async (command, errorClass, message) => {
    const peer = await startPeer((received) => answers[received]);
    const client = await connect(peer);
    const failure = client.api(command);
    await expect(failure).rejects.toBeInstanceOf(errorClass);
    await expect(failure).rejects.toThrow(message);
    // the connection stays usable after an error reply
    await expect(client.api('uuid_kill 123')).rejects.toBeInstanceOf(EslCommandError);
  });

  it('never has more than one command in flight and keeps replies in order', async () => {
    const peer = await startPeer(
      (command) => new Promise<string>((resolve) => setTimeout(() => resolve(`${command} done\n`), 20)),
    );
    const client = await connect(peer);
    const results = await Promise.all(['one', 'two', 'three'].map((name) => client.api(`echo ${name}`)));
    expect(results).toEqual(['echo one done\n', 'echo two done\n', 'echo three done\n']);
    expect(connectionOf(peer).maxOutstanding).toBe(1);
  });

  it('refuses a command containing a line break (it would inject a second command)', async () => {
    const peer = await startPeer();
    const client = await connect(peer);
    await expect(client.api('status\n\napi fsctl shutdown')).rejects.toBeInstanceOf(RangeError);
    expect(connectionOf(peer).commandLines).toEqual(['auth ClueCon']);
  });
});

describe('EslClient: framing', () => {
  const payloads: Record<string, string> = {
    blank: 'line one\n\nline three after a blank line\n\n',
    unicode: 'André €5 📞\n',
  };

  async function clientWithScriptedAnswer(write: (connection: PeerConnection, command: string) => void) {
    const peer = await startPeer((command, connection) => {
      write(connection, command);
      return REPLY_WRITTEN;
    });
    return connect(peer);
  }

  it('reassembles a reply written one byte per TCP write', async () => {
    const client = await clientWithScriptedAnswer((connection) => void connection.writeBytewise(apiResponse(STATUS)));
    await expect(client.api('status')).resolves.toBe(STATUS);
  });

  it('takes exactly Content-Length bytes, counted in bytes, even when the body has blank lines', async () => {
    const client = await clientWithScriptedAnswer((connection, command) => connection.write(apiResponse(payloads[command])));
    await expect(client.api('blank')).resolves.toBe(payloads.blank);
    await expect(client.api('unicode')).resolves.toBe(payloads.unicode);
  });

  it('splits several messages written at once, and keeps trailing bytes for the next message', async () => {
    const events: EslEvent[] = [];
    const peer = await startPeer((command, connection) => {
      const event = plainEvent({ 'Event-Name': 'HEARTBEAT', 'Event-Info': 'System Ready' });
      if (command === 'first') {
        // reply, a whole event and the first half of another event in one write
        connection.write(apiResponse('first\n') + event + event.slice(0, 30));
        setTimeout(() => connection.write(event.slice(30)), 20);
        return REPLY_WRITTEN;
      }
      return `${command}\n`;
    });
    const client = await connect(peer);
    client.on('event', (event) => events.push(event));
    await client.subscribe(['HEARTBEAT']);
    await expect(client.api('first')).resolves.toBe('first\n');
    await waitFor(() => events.length === 2, { message: 'two HEARTBEAT events' });
    expect(events.map((event) => event.headers['Event-Info'])).toEqual(['System Ready', 'System Ready']);
    await expect(client.api('second')).resolves.toBe('second\n');
  });
});

describe('EslClient: timeouts and lost connections', () => {
  it('times out a command, then drops the connection so later replies cannot shift', async () => {
    const peer = await startPeer((command) => (command === 'hang' ? null : `${command}\n`));
    const client = await connect(peer, { commandTimeoutMs: 100 });
    const closed = new Promise<EslConnectionError>((resolve) => client.once('close', resolve));
    const hanging = client.api('hang');
    const queued = client.api('after');
    await expect(hanging).rejects.toBeInstanceOf(EslTimeoutError);
    await expect(hanging).rejects.toThrow("ESL command 'api hang' timed out after 100 ms");
    await expect(queued).rejects.toBeInstanceOf(EslConnectionError);
    await expect(queued).rejects.toThrow(/timed out.*while running 'api after'/);
    expect((await closed).message).toMatch(/because 'api hang' timed out/);
    await waitFor(() => connectionOf(peer).closed, { message: 'the peer to see the connection dropped' });
    await expect(client.api('later')).rejects.toBeInstanceOf(EslConnectionError);
  });

  it('accepts a per-command timeout', async () => {
    const peer = await startPeer(() => null);
    const client = await connect(peer);
    await expect(client.api('slow', { timeoutMs: 50 })).rejects.toThrow('timed out after 50 ms');
  });

  it('fails a pending command at once when the peer closes mid-command', async () => {
    const peer = await startPeer((command, connection) => {
      if (command !== 'crash') return undefined;
      connection.write('Content-Type: api/response\nContent-Length: 100\n\npartial');
      setTimeout(() => connection.socket.destroy(), 20);
      return null;
    });
    const client = await connect(peer);
    const startedAt = Date.now();
    const failure = client.api('crash');
    await expect(failure).rejects.toBeInstanceOf(EslConnectionError);
    await expect(failure).rejects.toThrow(`ESL connection to 127.0.0.1:${peer.port} was closed by the peer (while running 'api crash')`);
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(client.isClosed).toBe(true);
  });
});

describe('EslClient: malformed frames', () => {
  it('skips an event-plain frame without a body and any event-xml frame, and keeps the connection', async () => {
    const peer = await startPeer((command) => `${command}\n`);
    const client = await connect(peer);
    const events: EslEvent[] = [];
    client.on('event', (event) => events.push(event));
    connectionOf(peer).write('Content-Type: text/event-plain\n\n');
    connectionOf(peer).write('Content-Length: 7\nContent-Type: text/event-xml\n\n<event>');
    const xml = '<event><headers><Event-Name>HEARTBEAT</Event-Name></headers></event>';
    connectionOf(peer).write(`Content-Length: ${xml.length}\nContent-Type: text/event-xml\n\n${xml}`);
    connectionOf(peer).sendEvent({ 'Event-Name': 'HEARTBEAT' });
    await waitFor(() => events.length === 1, { message: 'the HEARTBEAT event after the skipped frames' });
    await expect(client.api('still-here')).resolves.toBe('still-here\n');
    expect(client.isClosed).toBe(false);
  });

  it('drops the connection, naming the problem, on a frame whose Content-Length is not a byte count', async () => {
    const peer = await startPeer(() => REPLY_WRITTEN);
    const client = await connect(peer);
    const pending = client.api('status');
    connectionOf(peer).write('Content-Type: api/response\nContent-Length: -5\n\nabc');
    await expect(pending).rejects.toThrow(
      `ESL connection to 127.0.0.1:${peer.port} was closed because it sent a malformed ESL frame (a frame has an invalid Content-Length: "-5")`,
    );
    await waitFor(() => client.isClosed, { message: 'the client to close' });
  });

  it('drops the connection rather than buffer a header block that never ends', async () => {
    const peer = await startPeer(() => REPLY_WRITTEN);
    const client = await connect(peer);
    const pending = client.api('status');
    connectionOf(peer).write(`Content-Type: api/response\nX-Filler: ${'x'.repeat(2 * 1024 * 1024)}`);
    await expect(pending).rejects.toThrow("was closed because it sent a malformed ESL frame (a frame's headers exceed 1048576 bytes)");
  });
});

describe('EslClient: events', () => {
  it('delivers plain events with decoded headers, surviving a stray % in a header', async () => {
    const peer = await startPeer();
    const client = await connect(peer);
    const events: EslEvent[] = [];
    client.on('event', (event) => events.push(event));
    await client.subscribe(['CHANNEL_CREATE', 'CHANNEL_HANGUP_COMPLETE']);
    await client.filter('variable_call_control_group', 'blue');
    expect(connectionOf(peer).commandLines.slice(1)).toEqual([
      'event plain CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE',
      'filter variable_call_control_group blue',
    ]);
    connectionOf(peer).write(
      plainEventFromLines([
        'Event-Name: CHANNEL_CREATE',
        'Unique-ID: u-1',
        'Caller-Caller-ID-Name: Andr%C3%A9%20100%',
        'variable_sip_user_agent: SIP+Phone%2F1.0',
      ]),
    );
    connectionOf(peer).sendEvent({ 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Hangup-Cause': 'NORMAL_CLEARING' }, 'body\n\nwith blank line');
    await waitFor(() => events.length === 2, { message: 'two events' });
    expect(events[0]).toEqual({
      name: 'CHANNEL_CREATE',
      headers: {
        'Event-Name': 'CHANNEL_CREATE',
        'Unique-ID': 'u-1',
        'Caller-Caller-ID-Name': 'André 100%',
        'variable_sip_user_agent': 'SIP+Phone/1.0',
      },
    });
    expect(events[1].body).toBe('body\n\nwith blank line');
    expect(events[1].headers['Hangup-Cause']).toBe('NORMAL_CLEARING');
    await expect(client.api('frobnicate')).rejects.toBeInstanceOf(EslCommandError);
  });

  it('delivers json events', async () => {
    const peer = await startPeer();
    const client = await connect(peer);
    const events: EslEvent[] = [];
    client.on('event', (event) => events.push(event));
    await client.subscribe(['CUSTOM', 'sofia::register'], { format: 'json' });
    expect(connectionOf(peer).commandLines).toContain('event json CUSTOM sofia::register');
    connectionOf(peer).write(jsonEvent({ 'Event-Name': 'CUSTOM', 'Event-Subclass': 'sofia::register', _body: 'hi' }));
    await waitFor(() => events.length === 1, { message: 'a json event' });
    expect(events[0]).toEqual({
      name: 'CUSTOM',
      headers: { 'Event-Name': 'CUSTOM', 'Event-Subclass': 'sofia::register' },
      body: 'hi',
    });
  });
});

describe('EslClient: bgapi', () => {
  it('resolves with the BACKGROUND_JOB output, subscribing to it on first use', async () => {
    const peer = await startPeer((command) => (command === 'originate user/1000 &park' ? '+OK 7f3a\n' : undefined));
    const client = await connect(peer);
    await expect(client.bgapi('originate user/1000 &park')).resolves.toBe('+OK 7f3a\n');
    const lines = connectionOf(peer).commandLines;
    expect(lines[1]).toBe('event plain BACKGROUND_JOB');
    expect(lines[2]).toBe('bgapi originate user/1000 &park');
    await expect(client.bgapi('frobnicate')).rejects.toThrow("ESL command 'bgapi frobnicate' failed: -ERR frobnicate Command not found!");
    expect(connectionOf(peer).commandLines.filter((line) => line.startsWith('event'))).toHaveLength(1);
  });

  it('lets BACKGROUND_JOB through existing filters', async () => {
    const peer = await startPeer(() => '+OK\n');
    const client = await connect(peer);
    await client.filter('Unique-ID', 'u-1');
    await client.bgapi('status');
    expect(connectionOf(peer).commandLines.slice(1, 4)).toEqual([
      'filter Unique-ID u-1',
      'event plain BACKGROUND_JOB',
      'filter Event-Name BACKGROUND_JOB',
    ]);
  });

  it('times out a job that never reports, without dropping the connection', async () => {
    const peer = await startPeer((command) => (command === 'stuck' ? new Promise<string>(() => undefined) : `${command}\n`));
    const client = await connect(peer);
    await expect(client.bgapi('stuck', { timeoutMs: 100 })).rejects.toBeInstanceOf(EslTimeoutError);
    expect(client.isClosed).toBe(false);
  });
});

describe('EslClient: close', () => {
  it('sends exit and ends the connection', async () => {
    const peer = await startPeer();
    const client = await connect(peer);
    const closeReasons: EslConnectionError[] = [];
    client.on('close', (reason) => closeReasons.push(reason));
    await client.close();
    expect(connectionOf(peer).commandLines).toEqual(['auth ClueCon', 'exit']);
    expect(client.isClosed).toBe(true);
    expect(closeReasons.map((reason) => reason.message)).toEqual([`ESL connection to 127.0.0.1:${peer.port} was closed by the client`]);
    await expect(client.api('status')).rejects.toBeInstanceOf(EslConnectionError);
  });

  it('destroys the socket if the server ignores exit', async () => {
    const peer = await startPeer(() => null);
    const client = await connect(peer, { closeTimeoutMs: 50 });
    const pending = expect(client.api('blocks-the-connection')).rejects.toThrow(/closed by the client/);
    await client.close();
    await pending;
    await waitFor(() => connectionOf(peer).closed, { message: 'the peer to see the socket destroyed' });
  });
});

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { EslFrame, RawEslClient } from '../support/freeswitch/raw-esl-client';
import { waitFor } from '../support/wait-for';

const GOODBYE =
  'Content-Type: text/disconnect-notice\nContent-Length: 67\n\n' +
  'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

const PARK_AND_ANSWER_DIALPLAN = `
<include>
  <context name="default">
    <extension name="parked">
      <condition field="destination_number" expression="^park$">
        <action application="park"/>
      </condition>
    </extension>
    <extension name="answered">
      <condition field="destination_number" expression="^answer$">
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
  </context>
</include>`;

async function authenticatedClient(port: number): Promise<RawEslClient> {
  const client = await RawEslClient.connect(port);
  await client.nextFrame();
  const reply = await client.command('auth ClueCon');
  expect(reply.header('Reply-Text')).toBe('+OK accepted');
  return client;
}

describe('FreeSWITCH simulator: inbound event socket', () => {
  let simulator: FreeSwitchSimulator;
  let port: number;
  const clients: RawEslClient[] = [];

  async function connect(): Promise<RawEslClient> {
    const client = await authenticatedClient(port);
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    simulator = new FreeSwitchSimulator({ dialplanXml: PARK_AND_ANSWER_DIALPLAN, hostname: 'sim-host' });
    ({ eslPort: port } = await simulator.start());
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await simulator.stop();
  });

  it('greets with auth/request, refuses commands before auth and accepts the right password', async () => {
    const client = await RawEslClient.connect(port);
    clients.push(client);
    expect((await client.nextFrame()).raw).toBe('Content-Type: auth/request\n\n');

    expect((await client.command('api status')).raw).toBe(
      'Content-Type: command/reply\nReply-Text: -ERR command not found\n\n'
    );
    expect((await client.command('auth ClueCon')).raw).toBe(
      'Content-Type: command/reply\nReply-Text: +OK accepted\n\n'
    );
    expect((await client.command('frobnicate')).raw).toBe(
      'Content-Type: command/reply\nReply-Text: -ERR command not found\n\n'
    );
  });

  it('answers a wrong password with -ERR invalid, says goodbye and closes', async () => {
    const client = await RawEslClient.connect(port);
    clients.push(client);
    await client.nextFrame();
    expect((await client.command('auth nope')).raw).toBe('Content-Type: command/reply\nReply-Text: -ERR invalid\n\n');
    expect((await client.nextFrame()).raw).toBe(GOODBYE);
    await client.closed;
  });

  it('says goodbye and closes when no command arrives before the deadline', async () => {
    await simulator.stop();
    simulator = new FreeSwitchSimulator({ commandTimeoutMs: 50 });
    ({ eslPort: port } = await simulator.start());
    const client = await RawEslClient.connect(port);
    clients.push(client);
    await client.nextFrame();
    expect((await client.nextFrame(undefined, 2000)).raw).toBe(GOODBYE);
    await client.closed;
  });

  it('rejects clients outside the ACL rudely', async () => {
    await simulator.stop();
    simulator = new FreeSwitchSimulator({ acl: ['10.'] });
    ({ eslPort: port } = await simulator.start());
    const client = await RawEslClient.connect(port);
    clients.push(client);
    expect((await client.nextFrame()).raw).toBe(
      'Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n'
    );
    await client.closed;
  });

  it('answers exit with +OK bye and a disconnect notice', async () => {
    const client = await connect();
    expect((await client.command('exit')).header('Reply-Text')).toBe('+OK bye');
    expect((await client.nextFrame()).raw).toBe(GOODBYE);
    await client.closed;
  });

  it('frames api responses with Content-Type before Content-Length and uses the FreeSWITCH error texts', async () => {
    const client = await connect();
    expect((await client.command('api frobnicate now')).raw).toBe(
      'Content-Type: api/response\nContent-Length: 35\n\n-ERR frobnicate Command not found!\n'
    );
    expect((await client.command('api db select/nothing/here')).body).toBe('-ERR no reply\n');
    expect((await client.command('api uuid_kill')).body).toBe('-USAGE: <uuid> [cause]\n');
    expect((await client.command('api uuid_kill 00000000-0000-0000-0000-000000000000')).body).toBe(
      '-ERR No such channel!\n'
    );
    expect((await client.command('api db insert/only')).body).toBe('!err!');
    expect((await client.command('api hostname')).body).toBe('sim-host');
    const status = (await client.command('api status')).body;
    expect(status).toMatch(/^UP \d+ years?, \d+ days?, /);
    expect(status).toContain(') is ready\n');
    expect(status).toContain('0 session(s) since startup\n');
  });

  it('keeps the core db across a restart on the same port but loses globals and the hash', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'fs-sim-'));
    try {
      await simulator.stop();
      simulator = new FreeSwitchSimulator({ dbFile: join(directory, 'core-db.json') });
      ({ eslPort: port } = await simulator.start());
      const before = await authenticatedClient(port);
      expect((await before.command('api db insert/routes/cc/127.0.0.1:9000|127.0.0.1:9001')).body).toBe('+OK');
      expect((await before.command('api global_setvar cc_group=blue')).body).toBe('+OK');
      expect((await before.command('api global_getvar cc_group')).body).toBe('blue');
      expect((await before.command('api hash insert/cc/blue/1')).body).toBe('+OK\n');

      const restarted = await simulator.restart();
      expect(restarted.eslPort).toBe(port);
      expect((await before.nextFrame()).raw).toBe(
        'Content-Type: text/disconnect-notice\nContent-Length: 31\n\nThe system is being shut down.\n'
      );
      await before.closed;

      const after = await connect();
      expect((await after.command('api db select/routes/cc')).body).toBe('127.0.0.1:9000|127.0.0.1:9001');
      expect((await after.command('api global_getvar cc_group')).body).toBe('-ERR no reply\n');
      expect((await after.command('api hash select/cc/blue')).body).toBe('-ERR no reply\n');
      expect(existsSync(join(directory, 'core-db.json'))).toBe(true);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('shows zero channels in the exact FreeSWITCH form and real channels with string values', async () => {
    const client = await connect();
    expect((await client.command('api show channels as json')).body).toBe('{"row_count": 0}\n');
    // The real server answers a count like this even for zero (no space, no newline, an empty rows array).
    expect((await client.command('api show calls count as json')).body).toBe('{"row_count":0,"rows":[]}');

    const call = simulator.placeCall({
      destination: 'park',
      callerIdNumber: '15551234',
      variables: { presence_data: 'group-blue' },
    });
    await waitFor(() => simulator.channels().some((channel) => channel.application === 'park'));

    const shown = JSON.parse((await client.command('api show channels as json')).body) as {
      row_count: number;
      rows: Array<Record<string, unknown>>;
    };
    expect(shown.row_count).toBe(1);
    expect(shown.rows[0]).toMatchObject({
      uuid: call.uuid,
      direction: 'inbound',
      cid_num: '15551234',
      dest: 'park',
      application: 'park',
      callstate: 'RINGING',
      call_uuid: call.uuid,
    });
    expect(Object.values(shown.rows[0]).every((value) => typeof value === 'string')).toBe(true);
    expect(JSON.parse((await client.command('api show channels like group-blue as json')).body).row_count).toBe(1);
    expect((await client.command('api show channels like group-green as json')).body).toBe('{"row_count": 0}\n');
    expect((await client.command('api show calls count as json')).body).toBe('{"row_count":1,"rows":[]}');

    expect((await client.command(`api uuid_kill ${call.uuid} USER_BUSY`)).body).toBe('+OK\n');
    expect((await call.outcome).hangupCause).toBe('USER_BUSY');
  });

  it('frames plain events with Content-Length first and URL-encoded values', async () => {
    const client = await connect();
    expect((await client.command('event plain CHANNEL_CREATE')).header('Reply-Text')).toBe(
      '+OK event listener enabled plain'
    );
    const call = simulator.placeCall({ destination: 'park', callerIdName: 'Zoë Doe+1', callerIdNumber: '1001' });
    const event = await client.nextEvent('CHANNEL_CREATE');

    expect(
      event.raw.startsWith(`Content-Length: ${Buffer.byteLength(event.body)}\nContent-Type: text/event-plain\n\n`)
    ).toBe(true);
    expect(event.body).toContain('Event-Name: CHANNEL_CREATE\n');
    expect(event.body).toContain('Caller-Caller-ID-Name: Zo%C3%AB%20Doe%2B1\n');
    expect(event.body).toContain('Channel-Name: sofia/internal/1001%40127.0.0.1\n');
    expect(event.body.endsWith('\n\n')).toBe(true);
    const headers = event.eventHeaders();
    expect(headers.get('Unique-ID')).toBe(call.uuid);
    expect(headers.get('Caller-Caller-ID-Name')).toBe('Zoë Doe+1');
    expect(headers.get('FreeSWITCH-Hostname')).toBe('sim-host');
    expect(headers.get('Event-Date-Timestamp')).toMatch(/^\d{16}$/);
    expect(headers.get('variable_uuid')).toBe(call.uuid);
    expect(simulator.killCall(call.uuid)).toBe(true);
  });

  it('sends JSON events as one object of strings', async () => {
    const client = await connect();
    await client.command('event json CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE');
    const call = simulator.placeCall({ destination: 'answer', durationMs: 20 });

    const answer = await client.nextEvent('CHANNEL_ANSWER');
    expect(
      answer.raw.startsWith(`Content-Length: ${Buffer.byteLength(answer.body)}\nContent-Type: text/event-json\n\n`)
    ).toBe(true);
    const answerFields = JSON.parse(answer.body) as Record<string, unknown>;
    expect(answerFields['Unique-ID']).toBe(call.uuid);
    expect(answerFields['Answer-State']).toBe('answered');
    expect(Object.values(answerFields).every((value) => typeof value === 'string')).toBe(true);

    const complete = JSON.parse((await client.nextEvent('CHANNEL_HANGUP_COMPLETE')).body) as Record<string, string>;
    expect(complete['Hangup-Cause']).toBe('NORMAL_CLEARING');
    for (const name of ['duration', 'billsec', 'start_epoch', 'answer_epoch', 'end_epoch']) {
      expect(complete[`variable_${name}`]).toMatch(/^\d+$/);
    }
  });

  it('delivers only the events that pass the filters', async () => {
    const client = await connect();
    await client.command('event plain CHANNEL_ANSWER');
    expect((await client.command('filter Caller-Caller-ID-Number 1001')).header('Reply-Text')).toBe(
      '+OK filter added. [Caller-Caller-ID-Number]=[1001]'
    );
    const other = simulator.placeCall({ destination: 'answer', callerIdNumber: '1002', durationMs: 10 });
    const wanted = simulator.placeCall({ destination: 'answer', callerIdNumber: '1001', durationMs: 10 });
    await Promise.all([other.outcome, wanted.outcome]);
    await client.command('api status');

    const answers = client.pending.filter((frame) => frame.eventName === 'CHANNEL_ANSWER');
    expect(answers.map((frame) => frame.eventHeaders().get('Unique-ID'))).toEqual([wanted.uuid]);
    expect((await client.command('filter delete Caller-Caller-ID-Number 1001')).header('Reply-Text')).toBe(
      '+OK filter deleted. [Caller-Caller-ID-Number][1001]'
    );
  });

  it('replies to bgapi at once and reports the output in a BACKGROUND_JOB event', async () => {
    const client = await connect();
    await client.command('event plain BACKGROUND_JOB');
    const reply = await client.command('bgapi db insert/bg/key/value', { 'Job-UUID': 'job-1' });
    expect(reply.raw).toBe('Content-Type: command/reply\nReply-Text: +OK Job-UUID: job-1\nJob-UUID: job-1\n\n');
    const job = await client.nextEvent('BACKGROUND_JOB');
    const headers = job.eventHeaders();
    expect(headers.get('Job-UUID')).toBe('job-1');
    expect(headers.get('Job-Command')).toBe('db');
    expect(headers.get('Job-Command-Arg')).toBe('insert/bg/key/value');
    expect(job.body.endsWith('Content-Length: 3\n\n+OK')).toBe(true);
  });

  it('keeps replies in command order', async () => {
    const client = await connect();
    client.send('api db insert/order/a/1');
    client.send('event plain CHANNEL_CREATE');
    client.send('api db select/order/a');
    client.send('noevents');
    const replies: EslFrame[] = [];
    for (let i = 0; i < 4; i++) replies.push(await client.nextFrame());
    expect(replies.map((frame) => frame.body || frame.header('Reply-Text'))).toEqual([
      '+OK',
      '+OK event listener enabled plain',
      '1',
      '+OK no longer listening for events',
    ]);
  });
});

interface ModeslEvent {
  getHeader(name: string): string | undefined;
  getBody(): string;
}

interface ModeslConnection {
  api(command: string, callback: (event: ModeslEvent) => void): void;
  bgapi(command: string, callback: (event: ModeslEvent) => void): void;
  subscribe(events: string[], callback: () => void): void;
  on(eventName: string, callback: (event: ModeslEvent) => void): void;
  disconnect(): void;
}

interface ModeslModule {
  Connection: new (host: string, port: number, password: string, ready: () => void) => ModeslConnection;
}

// modesl ships no type declarations; this is the slice of its API the test drives.
const modesl = require('modesl') as ModeslModule;

describe('FreeSWITCH simulator with the modesl client', () => {
  let simulator: FreeSwitchSimulator;
  let connection: ModeslConnection | undefined;

  beforeEach(async () => {
    simulator = new FreeSwitchSimulator({ dialplanXml: PARK_AND_ANSWER_DIALPLAN });
    await simulator.start();
  });

  afterEach(async () => {
    connection?.disconnect();
    connection = undefined;
    await simulator.stop();
  });

  function connectModesl(): Promise<ModeslConnection> {
    return new Promise((resolve) => {
      const created: ModeslConnection = new modesl.Connection('127.0.0.1', simulator.eslPort, 'ClueCon', () =>
        resolve(created)
      );
    });
  }

  function api(client: ModeslConnection, command: string): Promise<string> {
    return new Promise((resolve) => client.api(command, (event) => resolve(event.getBody())));
  }

  it('authenticates, runs api and bgapi commands and receives JSON events', async () => {
    connection = await connectModesl();
    expect(await api(connection, 'db insert/routes/cc/127.0.0.1:8084')).toBe('+OK');
    expect(await api(connection, 'db select/routes/cc')).toBe('127.0.0.1:8084');
    expect(await api(connection, 'status')).toContain('is ready');

    const client = connection;
    await new Promise<void>((resolve) => client.subscribe(['BACKGROUND_JOB', 'CHANNEL_HANGUP_COMPLETE'], resolve));
    const job = await new Promise<ModeslEvent>((resolve) => client.bgapi('db select/routes/cc', resolve));
    expect(job.getBody()).toBe('127.0.0.1:8084');

    const hangups: string[] = [];
    client.on('esl::event::CHANNEL_HANGUP_COMPLETE::*', (event) => {
      hangups.push(`${event.getHeader('Unique-ID')} ${event.getHeader('Hangup-Cause')}`);
    });
    const call = simulator.placeCall({ destination: 'answer', durationMs: 10 });
    await call.outcome;
    await waitFor(() => hangups.length === 1);
    expect(hangups).toEqual([`${call.uuid} NORMAL_CLEARING`]);
  });
});

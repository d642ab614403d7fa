import { execFile } from 'child_process';
import { createServer } from 'net';
import * as path from 'path';
import { promisify } from 'util';
import { main } from '../../runtime/cli';
import { runCli } from '../support/run-cli';
import { CLI_CONNECT_TIMEOUT_MS } from '../../runtime/commands/media-server-session';
import { ScriptedEslPeer } from '../esl/scripted-esl-peer';
import { startCallControl } from '../support/call-control-fixture';
import { FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { CALL_CONTEXT, SIMULATOR_PASSWORD, startMediaServer } from '../support/media-server-fixture';
import { waitFor } from '../support/wait-for';

const run = promisify(execFile);
const BIN = path.join(__dirname, '../../bin/voiceplane.js');

const cli = runCli;

describe('voiceplane routes / calls against the FreeSWITCH simulator', () => {
  let simulator: FreeSwitchSimulator;
  let esl: string[];
  const routesInDb = () => simulator.api('db select/voiceplane/call_control_routes');

  beforeEach(async () => {
    simulator = await startMediaServer();
    esl = ['--esl', `127.0.0.1:${simulator.eslPort}`, '--password', SIMULATOR_PASSWORD];
  });

  afterEach(() => simulator.stop());

  it('sets, shows, drains and restores the route table (JSON contract)', async () => {
    const set = await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:8084|10.100.16.5:8084', '--group', 'green=10.100.0.6:8085@50', '--json']);
    expect(set).toMatchObject({ code: 0, stderr: [] });
    const show = await cli(['routes', 'show', ...esl, '--json']);
    expect(JSON.parse(show.stdout[0])).toEqual({
      groups: [
        { id: 'blue', endpoints: ['10.100.0.5:8084', '10.100.16.5:8084'], weight: null, state: 'active', share: null, firstChoicePercent: 0 },
        { id: 'green', endpoints: ['10.100.0.6:8085'], weight: 50, state: 'active', share: null, firstChoicePercent: 100 },
      ],
    });
    const drain = await cli(['routes', 'drain', ...esl, '--group', 'blue', '--json']);
    expect(JSON.parse(drain.stdout[0]).groups.map((group: { state: string }) => group.state)).toEqual(['drained', 'active']);
    const restore = await cli(['routes', 'restore', ...esl, '--group', 'blue']);
    expect(restore.code).toBe(0);
    expect(restore.stdout.join('\n')).toMatch(
      /^GROUP\s+STATE\s+WEIGHT\s+SHARE\s+FIRST-CHOICE\s+ENDPOINTS\nblue\s+active\s+-\s+-\s+0%\s+10\.100\.0\.5:8084\|10\.100\.16\.5:8084\ngreen\s+active\s+50\s+-\s+100%\s+10\.100\.0\.6:8085$/,
    );
  });

  it('sets shares with routes set --share and routes share, shows them, and describes the change', async () => {
    const groups = ['--group', 'blue=10.100.0.5:8084', '--group', 'green=10.100.0.6:8085@50'];
    const set = await cli(['routes', 'set', ...esl, ...groups, '--share', 'blue=10', '--json']);
    expect(set).toMatchObject({ code: 0, stderr: [] });
    expect(JSON.parse(set.stdout[0]).groups.map((group: object) => ({ ...group, endpoints: undefined }))).toEqual([
      { id: 'blue', weight: null, state: 'active', share: 10, firstChoicePercent: 10 },
      { id: 'green', weight: 50, state: 'active', share: null, firstChoicePercent: 90 },
    ]);
    expect(routesInDb()).toMatch(/^vp2_10_10_10_10~/);

    const dryRun = await cli(['routes', 'set', ...esl, ...groups, '--share', 'blue=25', '--dry-run']);
    expect(dryRun.stdout).toEqual(['~ blue: share of new calls 10% → 25%', '= green active 10.100.0.6:8085 weight 50']);

    const share = await cli(['routes', 'share', ...esl, '--group', 'blue', '--percent', '0']);
    expect(share.code).toBe(0);
    expect(share.stdout.join('\n')).toMatch(/\nblue\s+active\s+-\s+0%\s+0%\s+10\.100\.0\.5:8084\ngreen\s+active\s+50\s+-\s+100%\s/);
    const cleared = await cli(['routes', 'share', ...esl, '--group', 'blue', '--percent', 'none', '--json']);
    expect(JSON.parse(cleared.stdout[0]).groups.map((group: { share: number | null }) => group.share)).toEqual([null, null]);
    expect(routesInDb()).toMatch(/^vp1~/);
  });

  it.each([
    [['--share', 'blue'], "--share: 'blue' is not ID=PERCENT"],
    [['--share', 'blue=ten'], "--share: 'ten' is not a whole percent"],
    [['--share', 'blue=101'], '--share: 101% is more than 100%'],
    [['--share', 'Blue=5'], "--share: 'Blue' must be lowercase letters, digits and dashes, starting with a letter (at most 31 characters)"],
    [['--share', 'red=5'], "--share: no --group 'red' to give a share"],
    [['--share', 'blue=5', '--share', 'blue=6'], "--share: 'blue' is given more than once"],
    [['--share', 'blue=60', '--share', 'green=50'], '--share: route table: groups: shares add up to 110%, more than 100%'],
    [['--share', 'blue=60', '--share', 'green=30'], '--share: route table: groups: shares add up to 90% and no active group is left without a share to take the other 10%'],
  ])('routes set %j is a usage error naming --share, changing nothing', async (flags, message) => {
    const result = await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:8084', '--group', 'green=10.100.0.6:8085', ...flags]);
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual([`voiceplane: ${message}`]);
    expect(routesInDb()).toMatch(/^-ERR no reply/);
  });

  it.each([
    [[], '--percent: required (PERCENT, or none to remove the share)'],
    [['--percent', '-5'], "--percent: '-5' is not a whole percent"],
    [['--percent', '200'], '--percent: 200% is more than 100%'],
  ])('routes share %j is a usage error naming --percent, changing nothing', async (flags, message) => {
    await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:8084', '--group', 'green=10.100.0.6:8085']);
    const before = routesInDb();
    const result = await cli(['routes', 'share', ...esl, '--group', 'blue', ...flags]);
    expect(result).toEqual({ code: 2, stdout: [], stderr: [`voiceplane: ${message}`] });
    expect(routesInDb()).toBe(before);
  });

  it('refuses to drain the last active group and leaves the table unchanged', async () => {
    await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:8084', '--allow-single-group']);
    const before = routesInDb();
    const result = await cli(['routes', 'drain', ...esl, '--group', 'blue']);
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([expect.stringMatching(/^voiceplane: refusing to drain 'blue': it is the last active call-control group/)]);
    expect(routesInDb()).toBe(before);
  });

  it('refuses a table with one active group unless told, changing nothing', async () => {
    const single = await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:8084']);
    expect(single).toEqual({
      code: 2,
      stdout: [],
      stderr: ['voiceplane: routes set: only blue would take new calls; upgrading it would drop calls (give a second --group, or --allow-single-group)'],
    });
    expect(routesInDb()).toMatch(/^-ERR no reply/);
    expect((await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:8084', '--allow-single-group'])).code).toBe(0);
  });

  it('shows the change before making it; a dry run makes none', async () => {
    await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:8084', '--group', 'green=10.100.0.6:8085']);
    const before = routesInDb();
    const change = ['--group', 'blue=10.100.0.5:8084|10.100.16.5:8084', '--group', 'red=10.100.0.7:8086@50'];
    const dryRun = await cli(['routes', 'set', ...esl, ...change, '--dry-run']);
    expect(dryRun).toEqual({ code: 0, stdout: ['~ blue: endpoints 10.100.0.5:8084 → 10.100.0.5:8084|10.100.16.5:8084', '+ red active 10.100.0.7:8086 weight 50', '- green active 10.100.0.6:8085 weight -'], stderr: [] });
    expect(routesInDb()).toBe(before);

    const json = await cli(['routes', 'set', ...esl, ...change, '--dry-run', '--json']);
    expect(JSON.parse(json.stdout[0])).toMatchObject({ dryRun: true, current: { groups: [{ id: 'blue' }, { id: 'green' }] }, next: { groups: [{ id: 'blue' }, { id: 'red', weight: 50 }] } });
    expect(routesInDb()).toBe(before);

    const applied = await cli(['routes', 'set', ...esl, ...change]);
    expect(applied.code).toBe(0);
    expect(applied.stdout.slice(0, 3)).toEqual(dryRun.stdout);
    expect(applied.stdout.slice(3).join('\n')).toMatch(/^GROUP\s+STATE\s+WEIGHT\s+SHARE\s+FIRST-CHOICE\s+ENDPOINTS\nblue\s+active/);
    expect(routesInDb()).not.toBe(before);
  });

  it('asks on a terminal after showing the change, and changes nothing unless the answer is yes', async () => {
    await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:8084', '--group', 'green=10.100.0.6:8085']);
    const before = routesInDb();
    const asked: string[] = [];
    const answering = (answer: boolean) => async (question: string) => {
      asked.push(question);
      return answer;
    };
    const swap = ['routes', 'set', ...esl, '--group', 'green=10.100.0.6:8085', '--group', 'blue=10.100.0.5:8084'];
    const stdout: string[] = [];
    const stderr: string[] = [];
    const output = { stdout: { line: (text: string) => stdout.push(text) }, stderr: { line: (text: string) => stderr.push(text) } };
    expect(await main(swap, { env: {}, ...output, confirm: answering(false) })).toBe(1);
    expect(stdout).toEqual(['= green active 10.100.0.6:8085 weight -', '= blue active 10.100.0.5:8084 weight -', '~ order: blue,green → green,blue']);
    expect(stderr).toEqual(['voiceplane: routes set: not confirmed; the route table is unchanged']);
    expect(routesInDb()).toBe(before);

    expect(await main(swap, { env: {}, ...output, confirm: answering(true) })).toBe(0);
    expect(asked).toEqual(['apply this route table? [y/N] ', 'apply this route table? [y/N] ']);
    expect(routesInDb()).not.toBe(before);
  });

  it('rejects invalid route input with a usage error naming the bad part, changing nothing', async () => {
    const result = await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:99999']);
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual([expect.stringMatching(/^voiceplane: --group: .*99999/)]);
    expect(routesInDb()).toMatch(/^-ERR no reply/);
  });

  it('reports calls per group', async () => {
    await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:8084', '--group', 'green=10.100.0.6:8085']);
    const result = await cli(['calls', ...esl, '--json']);
    expect(JSON.parse(result.stdout[0])).toEqual({ total: 0, byGroup: { blue: 0, green: 0 } });
    const one = await cli(['calls', ...esl, '--group', 'green', '--json']);
    expect(JSON.parse(one.stdout[0])).toEqual({ total: 0, byGroup: { green: 0 } });
  });

  it('reports live calls per group and in total', async () => {
    const blue = await startCallControl('blue');
    const green = await startCallControl('green');
    try {
      await cli(['routes', 'set', ...esl, '--group', `blue=127.0.0.1:${blue.eslPort}`, '--group', `green=127.0.0.1:${green.eslPort}`]);
      const placeAnsweredCalls = async (count: number) => {
        const calls = Array.from({ length: count }, () => simulator.placeCall({ destination: '15551230000', context: CALL_CONTEXT, durationMs: 60_000 }));
        const answered = (uuid: string) => simulator.channels().some((channel) => channel.uuid === uuid && channel.answered);
        await waitFor(() => calls.every((call) => answered(call.uuid)), { message: `${count} calls answered` });
        return calls;
      };
      const onBlue = await placeAnsweredCalls(2);
      expect((await cli(['routes', 'drain', ...esl, '--group', 'blue'])).code).toBe(0);
      const calls = [...onBlue, ...(await placeAnsweredCalls(1))];

      const all = await cli(['calls', ...esl, '--json']);
      expect(all).toMatchObject({ code: 0, stderr: [] });
      expect(JSON.parse(all.stdout[0])).toEqual({ total: 3, byGroup: { blue: 2, green: 1 } });
      const blueOnly = await cli(['calls', ...esl, '--group', 'blue', '--json']);
      expect(JSON.parse(blueOnly.stdout[0])).toEqual({ total: 3, byGroup: { blue: 2 } });

      calls.forEach((call) => simulator.killCall(call.uuid));
      await Promise.all(calls.map((call) => call.outcome));
    } finally {
      await Promise.all([blue.stop(), green.stop()]);
    }
  });

  it.each([
    [['routes', 'drain']],
    [['routes', 'restore']],
    [['routes', 'share', '--percent', '5']],
    [['calls']],
  ])('%j rejects a malformed --group id with a usage error naming the flag, changing nothing', async (command) => {
    await cli(['routes', 'set', ...esl, '--group', 'blue=10.100.0.5:8084', '--group', 'green=10.100.0.6:8085']);
    const before = routesInDb();
    const result = await cli([...command, ...esl, '--group', 'Blue_1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual([expect.stringMatching(/^voiceplane: --group: 'Blue_1' must be lowercase letters, digits and dashes/)]);
    expect(routesInDb()).toBe(before);
  });

  it('reports an unexpected failure in one line, without a stack trace', async () => {
    const stderr: string[] = [];
    const failingStdout = {
      line: () => {
        throw new Error('stdout closed\n    at write (stream.js:1:1)');
      },
    };
    const code = await main(['routes', 'show', ...esl], { env: {}, stdout: failingStdout, stderr: { line: (text) => stderr.push(text) } });
    expect(code).toBe(1);
    expect(stderr).toEqual(['voiceplane: unexpected error: stdout closed at write (stream.js:1:1)']);
  });

  it('takes the password from VOICEPLANE_ESL_PASSWORD and reports a wrong one in one line', async () => {
    const esl2 = ['--esl', `127.0.0.1:${simulator.eslPort}`];
    expect((await cli(['routes', 'show', ...esl2], { VOICEPLANE_ESL_PASSWORD: SIMULATOR_PASSWORD })).code).toBe(0);
    const wrong = await cli(['routes', 'show', ...esl2], { VOICEPLANE_ESL_PASSWORD: 'nope' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toEqual([expect.stringMatching(/^voiceplane: authentication failed at media server 127\.0\.0\.1:\d+: wrong event socket password \(-ERR invalid\)$/)]);
  });

  it('names missing and malformed options', async () => {
    expect((await cli(['routes', 'show', '--password', 'x'])).stderr).toEqual(['voiceplane: --esl: required (HOST:PORT of the media server event socket)']);
    expect((await cli(['routes', 'show', '--esl', '127.0.0.1:8021'])).stderr).toEqual(['voiceplane: --password-file or --password: required (or set VOICEPLANE_ESL_PASSWORD)']);
    expect(await cli(['routes', 'sett', ...esl])).toEqual({ code: 2, stdout: [], stderr: ["voiceplane: unknown command 'sett' (Did you mean set?)"] });
    expect(await cli(['routes', 'show', ...esl, '--jsno'])).toEqual({ code: 2, stdout: [], stderr: ["voiceplane: unknown option '--jsno' (Did you mean --json?)"] });
  });
});

describe('voiceplane against a misbehaving event socket', () => {
  let peer: ScriptedEslPeer;
  const eslOf = (server: ScriptedEslPeer) => ['--esl', `127.0.0.1:${server.port}`, '--password', 'ClueCon'];

  afterEach(() => peer.stop());

  it('exits 1 with one line naming the FreeSWITCH -ERR reply', async () => {
    peer = await ScriptedEslPeer.start();
    const result = await cli(['routes', 'show', ...eslOf(peer)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual(["voiceplane: ESL command 'api hash select/voiceplane/call_control_routes' failed: -ERR hash Command not found!"]);
  });

  it('gives up on a host that accepts the connection but never greets, within the connect timeout', async () => {
    peer = await ScriptedEslPeer.start({ greet: false });
    const startedAt = Date.now();
    const result = await cli(['calls', ...eslOf(peer)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([expect.stringMatching(/^voiceplane: cannot reach media server 127\.0\.0\.1:\d+: .*within 10000 ms/)]);
    expect(Date.now() - startedAt).toBeLessThan(CLI_CONNECT_TIMEOUT_MS + 2_000);
  }, CLI_CONNECT_TIMEOUT_MS + 5_000);

  it('gives up on a host that authenticates but never answers a command', async () => {
    peer = await ScriptedEslPeer.start({ api: () => null });
    const result = await cli(['calls', ...eslOf(peer)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([expect.stringMatching(/^voiceplane: ESL command '.*' timed out after \d+ ms$/)]);
  }, CLI_CONNECT_TIMEOUT_MS + 5_000);
});

describe('the voiceplane executable', () => {
  it('exits non-zero with one line when the media server refuses connections', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const failure = await run(process.execPath, [BIN, 'calls', '--esl', `127.0.0.1:${port}`, '--password', 'x']).catch((error) => error);
    expect(failure.code).toBe(1);
    expect(failure.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^voiceplane: cannot reach media server 127\.0\.0\.1:\d+: .*ECONNREFUSED/)]);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { runCli } from '../support/run-cli';
import { FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { SIMULATOR_PASSWORD, startMediaServer } from '../support/media-server-fixture';

/** `--password` shows in `ps`: every command that takes it also reads the password from a file. */

const cli = runCli;

let dir: string;
const file = (name: string, text: string) => {
  const written = path.join(dir, name);
  writeFileSync(written, text, { mode: 0o600 });
  return written;
};

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-password-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--password-file', () => {
  let simulator: FreeSwitchSimulator;
  beforeAll(async () => {
    simulator = await startMediaServer();
  });
  afterAll(() => simulator.stop());

  it('authenticates routes and calls with the password the file holds (its final newline is not part of it)', async () => {
    const esl = ['--esl', `127.0.0.1:${simulator.eslPort}`, '--password-file', file('esl-password', `${SIMULATOR_PASSWORD}\n`)];
    expect(await cli(['routes', 'show', ...esl, '--json'])).toMatchObject({ code: 0, stderr: [] });
    expect(await cli(['calls', ...esl, '--json'])).toMatchObject({ code: 0, stderr: [] });
    // The file wins over the environment, as --password does.
    expect(await cli(['routes', 'show', ...esl], { VOICEPLANE_ESL_PASSWORD: 'nope' })).toMatchObject({ code: 0, stderr: [] });
  });

  it('is a one-line usage error together with --password, on every command that takes a password', async () => {
    const both = ['--password', 'x', '--password-file', file('both', 'x\n')];
    const esl = ['--esl', '127.0.0.1:8021'];
    const commands = [
      ['routes', 'show', ...esl],
      ['calls', ...esl],
      ['sip', 'status', '--site', 'west', '--media-server', 'ms1', '--rpc', '127.0.0.1:5060', ...esl],
      ['cds', 'serve', '--site', 'west', '--listen', '127.0.0.1:0', '--media-server', '127.0.0.1:8021'],
    ];
    for (const command of commands) {
      expect(await cli([...command, ...both])).toEqual({ code: 2, stdout: [], stderr: ['voiceplane: --password, --password-file: give one of them, not both'] });
    }
  });

  it('names the file it cannot use in one line', async () => {
    const esl = ['--esl', '127.0.0.1:8021'];
    const missing = path.join(dir, 'missing');
    expect(await cli(['routes', 'show', ...esl, '--password-file', missing])).toEqual({ code: 2, stdout: [], stderr: [expect.stringMatching(new RegExp(`^voiceplane: --password-file: cannot read ${missing}: ENOENT`))] });
    expect((await cli(['calls', ...esl, '--password-file', file('empty', '\n')])).stderr).toEqual(['voiceplane: --password-file: the file holds no password']);
    // A line break would end the event socket's `auth` command and start another.
    expect((await cli(['calls', ...esl, '--password-file', file('two-lines', 'a\nb\n')])).stderr).toEqual(['voiceplane: --password-file: the password must be one line']);
  });

  it('reads the file for cds serve too', async () => {
    const missing = path.join(dir, 'missing');
    const serve = ['cds', 'serve', '--site', 'west', '--listen', '127.0.0.1:0', '--media-server', '127.0.0.1:8021'];
    expect((await cli([...serve, '--password-file', missing])).stderr).toEqual([expect.stringMatching(/^voiceplane: --password-file: cannot read .*missing: ENOENT/)]);
  });
});

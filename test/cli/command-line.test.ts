import { execFile } from 'child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { runCli } from '../support/run-cli';

const execute = promisify(execFile);
const REPO_ROOT = path.join(__dirname, '../..');

/** Every command line the README documents, each with flags its help must list. */
const COMMANDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['synth', ['--topology <FILE>', '--out <DIR>', '--stack <NAME>']],
  ['routes show', ['--esl <HOST:PORT>', '--password-file <FILE>', '--json']],
  ['routes set', ['--group <ID=HOST:PORT[|HOST:PORT...][@WEIGHT]>', '--dry-run', '--allow-single-group']],
  ['routes drain', ['--group <ID>']],
  ['routes restore', ['--group <ID>']],
  ['calls', ['--esl <HOST:PORT>', '--group <ID>']],
  ['upgrade', ['--inventory <FILE>', '--media-server <ID|all>', '--on-timeout <wait|force|abort>', '--plan', '--state-dir <DIR>']],
  ['upgrade status', ['--upgrade-id <ID>', '--json']],
  ['upgrade history', ['--limit <N>']],
  ['upgrade report', ['--upgrade-id <ID>', '--out <FILE.html>']],
  ['inventory', ['--outputs <FILE|STACK=FILE>', '--data-center <ID>']],
  ['demo', ['--freeswitch <PATH>']],
  ['cds serve', ['--site <ID>', '--listen <HOST:PORT>', '--peer <ID=URL[,URL...]>', '--peer-key-file <FILE>', 'VOICEPLANE_CDS_PEER_KEY']],
  ['cds keygen', ['--out <FILE>']],
  ['sip config', ['--site <ID>', '--out <DIR>']],
  ['sip drain', ['--rpc <HOST:PORT>', '--rpc-token-file <FILE>']],
  ['sip undrain', ['--media-server <ID>']],
  ['sip status', ['--esl <HOST:PORT>']],
  ['media-server config', ['--loopback', '--rtp-ports <FIRST-LAST>']],
  ['topology diagram', ['--out <FILE.svg>']],
  ['completion', ['<shell>']],
];

describe('voiceplane command line', () => {
  it.each(COMMANDS)('`%s --help` prints its usage and flags on stdout (exit 0)', async (command, flags) => {
    const result = await runCli([...command.split(' '), '--help']);
    expect(result.code).toBe(0);
    expect(result.stderr).toEqual([]);
    const help = result.stdout.join('\n');
    expect(help).toMatch(new RegExp(`^Usage: voiceplane ${command} `));
    for (const flag of flags) expect(help).toContain(flag);
  });

  it('answers `--help` on a command with subcommands by listing them', async () => {
    const routes = await runCli(['routes', '--help']);
    expect(routes.code).toBe(0);
    for (const action of ['show', 'set', 'drain', 'restore', 'share']) expect(routes.stdout.join('\n')).toMatch(new RegExp(`^  ${action} `, 'm'));
    expect((await runCli(['help', 'sip'])).stdout.join('\n')).toMatch(/^  undrain /m);
  });

  it('prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: [version], stderr: [] });
  });

  it('prints the usage on stderr and exits 2 without a command', async () => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toEqual([]);
    expect(result.stderr.join('\n')).toMatch(/^Usage: voiceplane \[options\] \[command\]/);
  });

  it.each([
    [['rotues', 'show'], "voiceplane: unknown command 'rotues' (Did you mean routes?)"],
    [['cds', 'serv'], "voiceplane: unknown command 'serv' (Did you mean serve?)"],
    [['upgrade', '--max-drain-second', '60'], "voiceplane: unknown option '--max-drain-second' (Did you mean --max-drain-seconds?)"],
    [['calls', '--esl'], "voiceplane: option '--esl <HOST:PORT>' argument missing"],
    [['synth', 'now'], "voiceplane: too many arguments for 'synth'. Expected 0 arguments but got 1."],
    [['completion', 'fish'], 'voiceplane: completion: expected bash or zsh, got fish'],
  ])('refuses %j in one line naming what is wrong, with a suggestion (exit 2)', async (args, message) => {
    expect(await runCli(args)).toEqual({ code: 2, stdout: [], stderr: [message] });
  });

  it('synthesizes only the stacks --stack names, and lists just those', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'voiceplane-synth-')), 'cdktf.out');
    const result = await runCli(['synth', '--stack', 'acme-site-west', '--out', out], { PATH: process.env.PATH });
    expect(result).toEqual({ code: 0, stdout: [path.join(out, 'stacks/acme-site-west/cdk.tf.json')], stderr: [] });
    const unknown = await runCli(['synth', '--stack', 'acme-site-paris', '--out', out], { PATH: process.env.PATH });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toEqual([expect.stringMatching(/stack "acme-site-paris" is not in this topology \(its stacks: acme-dc-east, /)]);
  }, 120_000);

  it('keeps the program-wide --version apart from `upgrade --version TAG`', async () => {
    const result = await runCli(['upgrade', '--version', '1.2.3', '--plan']);
    expect(result.stderr).toEqual(['voiceplane: --inventory: required (a fleet inventory JSON file)']);
  });

  describe('bash completion', () => {
    let script: string;

    beforeAll(async () => {
      const result = await runCli(['completion', 'bash']);
      expect(result.code).toBe(0);
      script = path.join(mkdtempSync(path.join(tmpdir(), 'voiceplane-completion-')), 'voiceplane.bash');
      writeFileSync(script, `${result.stdout.join('\n')}\n`);
    });

    /** What bash offers after `line` (a trailing space starts a new word), with the script sourced as a user would. */
    async function complete(line: string): Promise<string[]> {
      const words = line.split(' ');
      const program = `source "$1"; COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _voiceplane_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const { stdout } = await execute('bash', ['-c', program, 'complete', script]);
      return stdout.split('\n').filter((word) => word !== '');
    }

    it.each([
      ['voiceplane rou', ['routes']],
      ['voiceplane routes ', ['show', 'set', 'drain', 'restore', 'share', '--help']],
      ['voiceplane routes set --d', ['--dry-run']],
      ['voiceplane routes show --esl 127.0.0.1:8021 --j', ['--json']],
      ['voiceplane upgrade h', ['history']],
      ['voiceplane cds serve --peer-k', ['--peer-key-file']],
      ['voiceplane upgrade --inventory ', []],
    ])('completes %j', async (line, expected) => {
      expect(await complete(line)).toEqual(expected);
    });
  });
});

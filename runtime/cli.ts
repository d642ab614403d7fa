import * as path from 'path';
import { parseArgs } from 'util';
import { runCallsCommand } from './commands/calls-command';
import { CliError, UsageError } from './commands/cli-error';
import { parseEslTarget } from './commands/esl-target';
import { Output } from './commands/output';
import { runRoutesCommand } from './commands/routes-command';
import { runSipCommand } from './commands/sip-command';
import { runSynthCommand } from './commands/synth-command';

const USAGE = `usage: voiceplane <command> [options]

  synth [--topology FILE] [--out DIR]       synthesize the platform's stacks (default cdktf.out)
  routes show    --esl HOST:PORT --password PW [--json]
  routes set     --esl HOST:PORT --password PW --group ID=HOST:PORT[|HOST:PORT...][@WEIGHT] [--group ...] [--json]
  routes drain   --esl HOST:PORT --password PW --group ID [--json]
  routes restore --esl HOST:PORT --password PW --group ID [--json]
  calls          --esl HOST:PORT --password PW [--group ID] [--json]
  sip config     --site ID [--topology FILE] --out DIR       write kamailio.cfg and dispatcher.list
  sip drain|undrain|status --site ID --media-server ID --rpc HOST:PORT [--rpc ...]
                 [--esl HOST:PORT --password PW] [--json]

The password may come from VOICEPLANE_ESL_PASSWORD instead of --password.`;

const OPTIONS = {
  esl: { type: 'string' },
  password: { type: 'string' },
  group: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
  topology: { type: 'string' },
  out: { type: 'string' },
  site: { type: 'string' },
  'media-server': { type: 'string' },
  rpc: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Runs one `voiceplane` command line; returns the process exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, stdout: Output, stderr: Output): Promise<number> {
  try {
    const { values, positionals } = parseCommandLine(argv);
    const [command, action, ...extra] = positionals;
    if (values.help || command === undefined) {
      stdout.line(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    const eslTarget = () => parseEslTarget(values.esl, values.password ?? env.VOICEPLANE_ESL_PASSWORD);
    switch (command) {
      case 'synth':
        rejectExtra(positionals.slice(1));
        runSynthCommand({ topology: values.topology, outdir: path.resolve(values.out ?? 'cdktf.out'), env }, stdout);
        return 0;
      case 'routes':
        rejectExtra(extra);
        await runRoutesCommand({ action, target: eslTarget(), groups: values.group ?? [], json: values.json }, stdout);
        return 0;
      case 'calls': {
        rejectExtra(positionals.slice(1));
        const groups = values.group ?? [];
        if (groups.length > 1) throw new UsageError('--group: at most one group for calls');
        await runCallsCommand({ target: eslTarget(), group: groups[0], json: values.json }, stdout);
        return 0;
      }
      case 'sip':
        rejectExtra(extra);
        await runSipCommand(
          {
            action,
            site: values.site,
            mediaServer: values['media-server'],
            topology: values.topology,
            out: values.out,
            rpc: values.rpc,
            esl: values.esl,
            password: values.password ?? env.VOICEPLANE_ESL_PASSWORD,
            json: values.json,
          },
          stdout,
        );
        return 0;
      default:
        throw new UsageError(`unknown command "${command}" (try voiceplane --help)`);
    }
  } catch (error) {
    if (error instanceof CliError) {
      stderr.line(`voiceplane: ${error.message}`);
      return error.exitCode;
    }
    stderr.line(`voiceplane: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

function rejectExtra(extra: readonly string[]): void {
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
}

const consoleOutput = (stream: NodeJS.WriteStream): Output => ({ line: (text) => stream.write(`${text}\n`) });

if (require.main === module) {
  main(process.argv.slice(2), process.env, consoleOutput(process.stdout), consoleOutput(process.stderr)).then((code) => {
    process.exitCode = code;
  });
}

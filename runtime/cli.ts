import * as path from 'path';
import { parseArgs, type ParseArgsConfig } from 'util';
import { runCallsCommand } from './commands/calls-command';
import { runCdsServeCommand } from './commands/cds-command';
import { CDS_SERVE_OPTIONS, cdsServeRawOptions } from './commands/cds-serve-options';
import { CliError, UsageError } from './commands/cli-error';
import { DEMO_OPTIONS, DEMO_USAGE, runDemoCommand } from './commands/demo-command';
import { parseEslTarget } from './commands/esl-target';
import { INVENTORY_OPTIONS, INVENTORY_USAGE, runInventoryCommand } from './commands/inventory-command';
import { Output } from './commands/output';
import { MEDIA_SERVER_USAGE, runMediaServerCommand } from './commands/media-server-command';
import { parseGroupIdOption, runRoutesCommand } from './commands/routes-command';
import { runSipCommand } from './commands/sip-command';
import { CDS_PEER_KEY_VARIABLE, ESL_PASSWORD_VARIABLE } from './commands/secret-variables';
import { runSynthCommand } from './commands/synth-command';
import { UPGRADE_OPTIONS, UPGRADE_USAGE, runUpgradeCommand } from './commands/upgrade-command';
import { guardProcess } from './handlers/process-guard';
import { ESL_PASSWORD_OPTIONS, eslPassword, withEslPassword } from './commands/esl-password';

const USAGE = `usage: voiceplane <command> [options]

  synth [--topology FILE] [--out DIR]       synthesize the platform's stacks (default cdktf.out)
  routes show    --esl HOST:PORT --password-file F [--json]
  routes set     --esl HOST:PORT --password-file F --group ID=HOST:PORT[|HOST:PORT...][@WEIGHT] [--group ...] [--json]
  routes drain   --esl HOST:PORT --password-file F --group ID [--json]
  routes restore --esl HOST:PORT --password-file F --group ID [--json]
  calls          --esl HOST:PORT --password-file F [--group ID] [--json]
${UPGRADE_USAGE}
${INVENTORY_USAGE}
${DEMO_USAGE}
  cds serve --site ID --listen HOST:PORT --peer ID=URL [--peer ...] --peer-key-file F [--dynamodb-endpoint URL|aws]
            [--table NAME] [--archive-table NAME|ARN] [--heartbeat-ms N] [--expiry-ms N] [--end-grace-ms N] [--create-tables]
            [--state-dir DIR]   (without --dynamodb-endpoint: keep the embedded DynamoDB on disk)
            [--media-server HOST:PORT ... --password-file F]
  sip config     --site ID [--topology FILE] --out DIR       write kamailio.cfg and dispatcher.list
  sip drain|undrain|status --site ID --media-server ID --rpc HOST:PORT [--rpc ...]
                 [--esl HOST:PORT --password-file F] [--json]
${MEDIA_SERVER_USAGE}

The ESL password may come from ${ESL_PASSWORD_VARIABLE} or --password PW (shown by ps) instead of --password-file, the CDS peer key from
${CDS_PEER_KEY_VARIABLE} instead of --peer-key-file.`;

type Options = NonNullable<ParseArgsConfig['options']>;

const MEDIA_SERVER_OPTIONS = {
  esl: { type: 'string' },
  ...ESL_PASSWORD_OPTIONS,
  group: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
} as const satisfies Options;

const SYNTH_OPTIONS = { topology: { type: 'string' }, out: { type: 'string' } } as const satisfies Options;

const SIP_OPTIONS = {
  ...SYNTH_OPTIONS,
  site: { type: 'string' },
  'media-server': { type: 'string' },
  rpc: { type: 'string', multiple: true },
  esl: { type: 'string' },
  ...ESL_PASSWORD_OPTIONS,
  json: { type: 'boolean', default: false },
} as const satisfies Options;

const MEDIA_SERVER_CONFIG_OPTIONS = {
  ...SYNTH_OPTIONS,
  site: { type: 'string' },
  'media-server': { type: 'string' },
  loopback: { type: 'boolean', default: false },
  'esl-port': { type: 'string' },
  'sip-port': { type: 'string' },
  'rtp-ports': { type: 'string' },
} as const satisfies Options;

export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly isTty?: boolean;
  /** Aborted on SIGINT/SIGTERM: long-running commands (upgrade, demo, cds serve) stop cleanly. */
  readonly signal?: AbortSignal;
}

/** Runs one `voiceplane` command line; returns the process exit code. */
export async function main(argv: readonly string[], context: CliContext): Promise<number> {
  const { env, stdout, stderr } = context;
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      stdout.line(USAGE);
      return command === undefined ? 2 : 0;
    }
    switch (command) {
      case 'synth': {
        const { values } = parse(rest, SYNTH_OPTIONS, 0);
        runSynthCommand({ topology: values.topology, outdir: path.resolve(values.out ?? 'cdktf.out'), env }, stdout);
        return 0;
      }
      case 'routes': {
        const { values, positionals } = parse(rest, MEDIA_SERVER_OPTIONS, 1);
        const target = parseEslTarget(values.esl, eslPassword(values, env));
        await runRoutesCommand({ action: positionals[0], target, groups: values.group ?? [], json: values.json }, stdout);
        return 0;
      }
      case 'calls': {
        const { values } = parse(rest, MEDIA_SERVER_OPTIONS, 0);
        const groups = values.group ?? [];
        if (groups.length > 1) throw new UsageError('--group: at most one group for calls');
        const target = parseEslTarget(values.esl, eslPassword(values, env));
        await runCallsCommand({ target, group: groups[0] === undefined ? undefined : parseGroupIdOption(groups[0]), json: values.json }, stdout);
        return 0;
      }
      case 'upgrade': {
        const { values } = parse(rest, UPGRADE_OPTIONS, 0);
        return await runUpgradeCommand(values, { stdout, env, isTty: context.isTty ?? false, signal: context.signal });
      }
      case 'inventory': {
        const { values } = parse(rest, INVENTORY_OPTIONS, 0);
        runInventoryCommand(values, stdout);
        return 0;
      }
      case 'demo': {
        const { values } = parse(rest, DEMO_OPTIONS, 0);
        return await runDemoCommand(values, { stdout, env, isTty: context.isTty ?? false, signal: context.signal });
      }
      case 'cds': {
        const { values, positionals } = parse(rest, CDS_SERVE_OPTIONS, 1);
        if (positionals[0] !== 'serve') throw new UsageError(`cds: expected serve, got ${positionals[0] ?? 'nothing'}`);
        await runCdsServeCommand(cdsServeRawOptions(withEslPassword(values, env), env), stdout, context.signal);
        return 0;
      }
      case 'sip': {
        const { values, positionals } = parse(rest, SIP_OPTIONS, 1);
        await runSipCommand(
          {
            action: positionals[0],
            site: values.site,
            mediaServer: values['media-server'],
            topology: values.topology,
            out: values.out,
            rpc: values.rpc,
            esl: values.esl,
            password: eslPassword(values, env),
            json: values.json,
          },
          stdout,
        );
        return 0;
      }
      case 'media-server': {
        const { values, positionals } = parse(rest, MEDIA_SERVER_CONFIG_OPTIONS, 1);
        runMediaServerCommand(
          {
            action: positionals[0],
            site: values.site,
            mediaServer: values['media-server'],
            topology: values.topology,
            out: values.out,
            loopback: values.loopback,
            eslPort: values['esl-port'],
            sipPort: values['sip-port'],
            rtpPorts: values['rtp-ports'],
          },
          stdout,
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}" (try voiceplane --help)`);
    }
  } catch (error) {
    if (error instanceof CliError) {
      stderr.line(`voiceplane: ${oneLine(error.message)}`);
      return error.exitCode;
    }
    stderr.line(`voiceplane: unexpected error: ${oneLine(error instanceof Error ? error.message : String(error))}`);
    return 1;
  }
}

/** Scripts read the reason from stderr's one line: a multi-line message (or a stack) would split it. */
function oneLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' ') || 'no details';
}

/** Parses a command's options strictly; at most `maxPositionals` words may follow the command (e.g. `routes show`). */
function parse<T extends Options>(args: readonly string[], options: T, maxPositionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${parsed.positionals[maxPositionals]}"`);
  return parsed;
}

const consoleOutput = (stream: NodeJS.WriteStream): Output => ({ line: (text) => stream.write(`${text}\n`) });

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * The `voiceplane` process: the only place that reads argv and the environment and handles signals. The first
 * SIGINT or SIGTERM aborts the command (`cds serve` stops gracefully and exits 0), a second one kills the
 * process. It exits once the command is done, even if something the command started is still pending.
 */
export function runProcess(): void {
  guardProcess();
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    STOP_SIGNALS.forEach((name) => process.off(name, onSignal));
    stop.abort(new Error(`received ${signal}`));
  };
  STOP_SIGNALS.forEach((name) => process.on(name, onSignal));
  void main(process.argv.slice(2), {
    env: process.env,
    stdout: consoleOutput(process.stdout),
    stderr: consoleOutput(process.stderr),
    isTty: process.stdout.isTTY === true,
    signal: stop.signal,
  }).then((code) => {
    process.exitCode = code;
    // Exits after what was written is out: a piped stdout is asynchronous on some platforms.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}

if (require.main === module) runProcess();

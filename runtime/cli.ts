import * as path from 'path';
import { createInterface } from 'readline/promises';
import { parseArgs, type ParseArgsConfig } from 'util';
import { runCallsCommand } from './commands/calls-command';
import { runCdsServeCommand } from './commands/cds-command';
import { CDS_KEYGEN_OPTIONS, CDS_KEYGEN_USAGE, runCdsKeygenCommand } from './commands/cds-keygen-command';
import { CDS_PEER_PORT, CDS_SERVE_OPTIONS, cdsServeRawOptions } from './commands/cds-serve-options';
import { CliError, UsageError } from './commands/cli-error';
import { DEMO_OPTIONS, DEMO_USAGE, runDemoCommand } from './commands/demo-command';
import { parseEslTarget } from './commands/esl-target';
import { INVENTORY_OPTIONS, INVENTORY_USAGE, runInventoryCommand } from './commands/inventory-command';
import { Output } from './commands/output';
import { MEDIA_SERVER_USAGE, runMediaServerCommand } from './commands/media-server-command';
import { parseGroupIdOption, runRoutesCommand } from './commands/routes-command';
import { runSipCommand } from './commands/sip-command';
import { CDS_LOCAL_TOKEN_VARIABLE, CDS_PEER_KEY_VARIABLE, ESL_PASSWORD_VARIABLE, SIP_RPC_TOKEN_VARIABLE } from './commands/secret-variables';
import { runSynthCommand } from './commands/synth-command';
import { TOPOLOGY_OPTIONS, TOPOLOGY_USAGE, runTopologyCommand } from './commands/topology-command';
import { UPGRADE_OPTIONS, UPGRADE_USAGE, runUpgradeCommand } from './commands/upgrade-command';
import { UPGRADE_RECORD_ACTIONS, UPGRADE_RECORDS_USAGE, runUpgradeRecordsCommand } from './commands/upgrade-records-command';
import { guardProcess } from './handlers/process-guard';
import { ESL_PASSWORD_OPTIONS, eslPassword, withEslPassword } from './commands/esl-password';

const USAGE = `usage: voiceplane <command> [options]

  synth [--topology FILE] [--out DIR]       synthesize the platform's stacks (default cdktf.out)
  routes show    --esl HOST:PORT --password-file F [--json]
  routes set     --esl HOST:PORT --password-file F --group ID=HOST:PORT[|HOST:PORT...][@WEIGHT] [--group ...] [--json]
                 [--dry-run] [--allow-single-group]   shows the change first (and asks on a terminal)
  routes drain   --esl HOST:PORT --password-file F --group ID [--json]
  routes restore --esl HOST:PORT --password-file F --group ID [--json]
  calls          --esl HOST:PORT --password-file F [--group ID] [--json]
${UPGRADE_USAGE}
${UPGRADE_RECORDS_USAGE}
${INVENTORY_USAGE}
${DEMO_USAGE}
  cds serve --site ID --listen HOST:PORT [--peer-listen HOST:PORT] --local-token-file F --peer ID=URL [--peer ...] --peer-public-key ID=KEY [...] --peer-key-file F
            [--dynamodb-endpoint URL|aws]   (--listen: the site's clients, with the token; --peer-listen: the other sites'
            nodes, default the --listen host on port ${CDS_PEER_PORT}, or any free port when --listen's port is 0)
            [--table NAME] [--archive-table NAME|ARN] [--heartbeat-ms N] [--expiry-ms N] [--end-grace-ms N] [--create-tables]
            [--state-dir DIR]   (without --dynamodb-endpoint: keep the embedded DynamoDB on disk)
            [--media-server HOST:PORT ... --password-file F]
            (--peer-key-file: this site's private key; --peer-public-key: each peer's, as cds keygen prints them)
${CDS_KEYGEN_USAGE}
  sip config     --site ID [--topology FILE] --out DIR       write kamailio.cfg and dispatcher.list
  sip drain|undrain|status --site ID --media-server ID --rpc HOST:PORT [--rpc ...] --rpc-token-file F
                 [--esl HOST:PORT --password-file F] [--json]
${MEDIA_SERVER_USAGE}
${TOPOLOGY_USAGE}

The ESL password may come from ${ESL_PASSWORD_VARIABLE} or --password PW (shown by ps) instead of --password-file, the CDS private key from
${CDS_PEER_KEY_VARIABLE} instead of --peer-key-file, the CDS local API token from ${CDS_LOCAL_TOKEN_VARIABLE} instead of --local-token-file, the SIP nodes' RPC token from
${SIP_RPC_TOKEN_VARIABLE} instead of --rpc-token-file.`;

type Options = NonNullable<ParseArgsConfig['options']>;

const MEDIA_SERVER_OPTIONS = {
  esl: { type: 'string' },
  ...ESL_PASSWORD_OPTIONS,
  group: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
} as const satisfies Options;

const ROUTES_OPTIONS = {
  ...MEDIA_SERVER_OPTIONS,
  'allow-single-group': { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
} as const satisfies Options;

const SYNTH_OPTIONS = { topology: { type: 'string' }, out: { type: 'string' } } as const satisfies Options;

const SIP_OPTIONS = {
  ...SYNTH_OPTIONS,
  site: { type: 'string' },
  'media-server': { type: 'string' },
  rpc: { type: 'string', multiple: true },
  'rpc-token-file': { type: 'string' },
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
  /** Asks the operator a yes/no question; only on a terminal (scripts are not asked). */
  readonly confirm?: (question: string) => Promise<boolean>;
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
        const { values, positionals } = parse(rest, ROUTES_OPTIONS, 1);
        const target = parseEslTarget(values.esl, eslPassword(values, env));
        await runRoutesCommand(
          { action: positionals[0], target, groups: values.group ?? [], json: values.json, allowSingleGroup: values['allow-single-group'], dryRun: values['dry-run'], confirm: context.confirm },
          stdout,
        );
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
        const { values, positionals } = parse(rest, UPGRADE_OPTIONS, 1);
        const action = positionals[0];
        if (action === undefined) return await runUpgradeCommand(values, { stdout, env, isTty: context.isTty ?? false, signal: context.signal });
        const recordAction = UPGRADE_RECORD_ACTIONS.find((candidate) => candidate === action);
        if (!recordAction) throw new UsageError(`upgrade: expected ${UPGRADE_RECORD_ACTIONS.join('|')} or options, got ${action}`);
        await runUpgradeRecordsCommand(recordAction, values, { stdout, env });
        return 0;
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
        if (rest[0] === 'keygen') {
          const { values } = parse(rest.slice(1), CDS_KEYGEN_OPTIONS, 0);
          runCdsKeygenCommand(values, stdout);
          return 0;
        }
        const { values, positionals } = parse(rest, CDS_SERVE_OPTIONS, 1);
        if (positionals[0] !== 'serve') throw new UsageError(`cds: expected serve or keygen, got ${positionals[0] ?? 'nothing'}`);
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
            rpcTokenFile: values['rpc-token-file'],
            rpcToken: env[SIP_RPC_TOKEN_VARIABLE],
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
      case 'topology': {
        const { values, positionals } = parse(rest, TOPOLOGY_OPTIONS, 1);
        runTopologyCommand({ action: positionals[0], ...values }, stdout);
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

/** A yes/no question on the terminal: only `y` or `yes` is a yes. */
async function askOnTerminal(question: string): Promise<boolean> {
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}

/**
 * The `voiceplane` process: the only place that reads argv and the environment and handles signals. The first
 * SIGINT or SIGTERM aborts the command (`cds serve` stops gracefully and exits 0), a second one kills the
 * process. It exits once the command is done, even if something the command started is still pending.
 */
export function runProcess(): void {
  // The lock file pins our AWS SDK: its notice that later SDK versions will need Node 22 is not for operators.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
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
    confirm: process.stdin.isTTY && process.stdout.isTTY ? askOnTerminal : undefined,
  }).then((code) => {
    process.exitCode = code;
    // Exits after what was written is out: a piped stdout is asynchronous on some platforms.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}

if (require.main === module) runProcess();

import { CommanderError } from 'commander';
import { createInterface } from 'readline/promises';
import type { CliContext } from './cli/cli-context';
import { commandTree } from './cli/command-tree';
import { CliError } from './commands/cli-error';
import type { Output } from './commands/output';
import { guardProcess } from './handlers/process-guard';

export type { CliContext } from './cli/cli-context';

/** Exit code of a command line that is not understood. */
const USAGE_EXIT_CODE = 2;

/** Commander's outcomes that are not errors: help or the version was asked for and printed. */
const ANSWERED = new Set(['commander.helpDisplayed', 'commander.version']);

/** Runs one `voiceplane` command line; returns the process exit code. */
export async function main(argv: readonly string[], context: CliContext): Promise<number> {
  const { stderr } = context;
  let exitCode = 0;
  try {
    await commandTree(context, (code) => (exitCode = code)).parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (ANSWERED.has(error.code)) return 0;
      // `voiceplane` alone printed its help to stderr; any other command line it did not understand gets one line.
      if (error.code !== 'commander.help') stderr.line(`voiceplane: ${oneLine(error.message.replace(/^error: /, ''))}`);
      return USAGE_EXIT_CODE;
    }
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

import { spawnSync } from 'child_process';
import { existsSync, readdirSync } from 'fs';
import * as path from 'path';
import { CliError } from './cli-error';
import { Output } from './output';

export interface SynthCommand {
  readonly topology?: string;
  readonly outdir: string;
  /** Stack names to synthesize (the app's `VOICEPLANE_STACKS`). @default every stack */
  readonly stacks?: readonly string[];
  /** Environment of the app process (the CLI passes its own). */
  readonly env: NodeJS.ProcessEnv;
}

/** The app beside this command: compiled when the command is, else the sources through ts-node. */
const APP_COMMAND = __filename.endsWith('.js')
  ? [path.join(__dirname, '../../stacks/main.js')]
  : ['-r', path.join(__dirname, '../../stacks/register-sources.js'), path.join(__dirname, '../../stacks/main.ts')];

/**
 * `voiceplane synth`: runs the CDKTF app in its own process (runtime code never imports the
 * constructs) and lists the stacks it wrote; with `stacks`, only those (any others already in `outdir` stay as
 * they were).
 */
export function runSynthCommand(command: SynthCommand, output: Output): void {
  const result = spawnSync(process.execPath, APP_COMMAND, {
    env: {
      ...command.env,
      CDKTF_OUTDIR: command.outdir,
      ...(command.topology ? { VOICEPLANE_TOPOLOGY: path.resolve(command.topology) } : {}),
      ...(command.stacks?.length ? { VOICEPLANE_STACKS: command.stacks.join(',') } : {}),
    },
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new CliError((result.stderr || result.error?.message || 'synth failed').trim());
  }
  const stacksDir = path.join(command.outdir, 'stacks');
  const written = existsSync(stacksDir) ? readdirSync(stacksDir).sort() : [];
  const stacks = command.stacks?.length ? written.filter((stack) => command.stacks!.includes(stack)) : written;
  stacks.forEach((stack) => output.line(`${path.join(stacksDir, stack, 'cdk.tf.json')}`));
}

import { main } from '../../runtime/cli';

/** The lines a `voiceplane` command line printed and its exit code, run in this process. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string[];
  readonly stderr: string[];
}

/** Runs `voiceplane ARGS...` in this process with `env` as its whole environment. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, { env, stdout: { line: (text) => stdout.push(text) }, stderr: { line: (text) => stderr.push(text) } });
  return { code, stdout, stderr };
}

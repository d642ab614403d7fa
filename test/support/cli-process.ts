import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { waitFor } from './wait-for';

const REPO_ROOT = path.join(__dirname, '../..');

/** A process running one of the runtime's entry points from the sources (ts-node), its output collected. */
export interface EntryProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code once it has exited within `timeoutMs` (a deadline, polled); fails the test otherwise. */
  exitWithin(timeoutMs: number): Promise<number | null>;
  /** SIGKILL if still running. */
  kill(): void;
}

const running = new Set<ChildProcess>();

/** `voiceplane ARGS...` as the runtime image runs it (`node dist/runtime/cli.js`), from the sources. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): EntryProcess {
  return spawnEntry('runtime/cli.ts', args, env);
}

/**
 * An entry point under the repository root (e.g. `runtime/handlers/call-control.ts`), with `env` over `base` (this
 * process's environment unless the test needs the entry point to see only what it sets).
 */
export function spawnEntry(entry: string, args: readonly string[], env: NodeJS.ProcessEnv, base: NodeJS.ProcessEnv = process.env): EntryProcess {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(REPO_ROOT, entry), ...args], {
    cwd: REPO_ROOT,
    env: { ...base, TS_NODE_SWC: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // 'close': the exit code is known and the output has been read to its end.
  let closed = false;
  child.once('close', () => {
    closed = true;
    running.delete(child);
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exitWithin: async (timeoutMs) => {
      await waitFor(() => closed, { timeoutMs, intervalMs: 50, message: `${entry} ${args.join(' ')} to exit` }).catch((error: Error) => {
        throw new Error(`${error.message}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
      });
      return child.exitCode;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** SIGKILLs every entry process still running (for afterEach). */
export function killEntryProcesses(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

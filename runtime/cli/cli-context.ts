import type { Output } from '../commands/output';

/** What a `voiceplane` command line runs with: the process's environment and streams, or a test's. */
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

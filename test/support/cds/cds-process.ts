import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { createInterface } from 'readline';
import { CDS_LOCAL_TOKEN_VARIABLE } from '../../../runtime/commands/secret-variables';
import { TEST_LOCAL_TOKEN } from './cds-http';
import { listeningPorts } from './listening-line';

const CLI = path.join(__dirname, '../../../runtime/cli.ts');

/**
 * `voiceplane cds serve` in a child process (ts-node), started again after a kill with the same arguments. It
 * holds the test sites' local API token (in the environment, as ECS gives it).
 */
export class CdsProcess {
  /** The local API's port. */
  port?: number;
  /** The peer API's port. */
  peerPort?: number;
  readonly output: string[] = [];
  /** How the node's process ended without being stopped or killed by the test (`code 1`, `signal SIGABRT`). */
  exit?: string;
  private child?: ChildProcess;

  /** `entry`: node's arguments before `cds serve` (default: the CLI from the sources under ts-node). */
  constructor(
    readonly site: string,
    private readonly args: () => readonly string[],
    private readonly entry: readonly string[] = ['-r', 'ts-node/register/transpile-only', CLI],
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the node and resolves with its port once it listens. */
  start(): Promise<number> {
    const child = spawn(process.execPath, [...this.entry, 'cds', 'serve', ...this.args()], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TS_NODE_SWC: 'true', [CDS_LOCAL_TOKEN_VARIABLE]: TEST_LOCAL_TOKEN },
    });
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.child === child) this.exit = signal ? `signal ${signal}` : `code ${code}`;
    });
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString('utf8')));
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        this.output.push(line);
        const listening = listeningPorts(line);
        if (listening) {
          this.peerPort = listening.peerPort;
          this.port = listening.port;
          resolve(this.port);
        }
      });
      child.once('exit', (code, signal) => reject(new Error(`cds serve for ${this.site} exited (${code ?? signal}) before listening:\n${this.output.join('\n')}`)));
    });
  }

  /** SIGKILL: no shutdown of any kind. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM: the graceful stop. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }
}

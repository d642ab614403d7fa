import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { createInterface } from 'readline';

const CLI = path.join(__dirname, '../../../runtime/cli.ts');

/** `voiceplane cds serve` in a child process (ts-node), started again after a kill with the same arguments. */
export class CdsProcess {
  port?: number;
  readonly output: string[] = [];
  private child?: ChildProcess;

  constructor(
    readonly site: string,
    private readonly args: () => readonly string[],
  ) {}

  /** Starts the node and resolves with its port once it listens. */
  start(): Promise<number> {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CLI, 'cds', 'serve', ...this.args()], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TS_NODE_SWC: 'true' },
    });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString('utf8')));
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        this.output.push(line);
        const listening = /^cds: site \S+ listening on http:\/\/[^:]+:(\d+)$/.exec(line);
        if (listening) {
          this.port = Number(listening[1]);
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

import { ChildProcess, fork } from 'child_process';

/** Request/reply over a forked TypeScript process's IPC channel (the upgrade benchmark's helper processes). */
export class IpcProcess {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
      if (message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.result);
    });
    child.once('exit', (code) => this.pending.forEach((waiter) => waiter.reject(new Error(`helper process exited with ${code}`))));
  }

  /** Forks `script` and waits for its `{ready: true}` message. */
  static async start(script: string): Promise<IpcProcess> {
    const child = fork(script, [], {
      execArgv: ['-r', require.resolve('ts-node/register/transpile-only')],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    });
    return new IpcProcess(child);
  }

  request<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      this.child.send({ id, command, ...args });
    });
  }
}

/** The helper side: answers each `{id, command, ...}` with `{id, result}` or `{id, error}`. */
export function serveIpc(handlers: Record<string, (message: Record<string, unknown>) => Promise<unknown>>): void {
  process.on('message', (message: { id: number; command: string } & Record<string, unknown>) => {
    const handler = handlers[message.command];
    const reply = (body: { result?: unknown; error?: string }) => process.send?.({ id: message.id, ...body });
    if (handler === undefined) {
      reply({ error: `unknown command ${message.command}` });
      return;
    }
    handler(message).then(
      (result) => reply({ result }),
      (error: Error) => reply({ error: error.message }),
    );
  });
  process.send?.({ ready: true });
}

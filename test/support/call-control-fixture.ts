import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { createInterface } from 'readline';
import { CallControlService, type CallControlServiceOptions } from '../../runtime/call-control';
import { jsonLinesLogger } from '../../runtime/shared/logger';

export interface RunningGroup {
  readonly group: string;
  readonly eslPort: number;
  readonly httpPort: number;
  stop(): Promise<void>;
}

/** A reference call-control group member in this process, logging nowhere. */
export async function startCallControl(
  group: string,
  version = '1.0.0',
  options: Pick<CallControlServiceOptions, 'bridgeTarget' | 'flow' | 'logger'> = {},
): Promise<RunningGroup & { service: CallControlService }> {
  const service = new CallControlService({
    group,
    version,
    eslListen: { host: '127.0.0.1', port: 0 },
    httpListen: { host: '127.0.0.1', port: 0 },
    logger: jsonLinesLogger({ write: () => undefined }),
    writeMetrics: () => undefined,
    ...options,
  });
  const ports = await service.start();
  return { group, ...ports, service, stop: () => service.stop() };
}

const ENTRY = path.join(__dirname, '../../runtime/handlers/call-control.ts');

/** A reference call-control group member as its own process (what ECS runs), so tests can kill it. */
export async function spawnCallControl(group: string, version = '1.0.0', extraEnv: Record<string, string> = {}): Promise<RunningGroup & { process: ChildProcess }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ENTRY], {
    env: { ...process.env, ...extraEnv, CALL_CONTROL_GROUP: group, CALL_CONTROL_VERSION: version, CALL_CONTROL_ESL_PORT: '0', CALL_CONTROL_HEALTH_PORT: '0', CALL_CONTROL_LISTEN_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = await new Promise<{ eslPort: number; httpPort: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`call-control process exited with ${code} before it started`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; eslPort?: number; httpPort?: number };
      if (entry.msg === 'call control started' && entry.eslPort && entry.httpPort) resolve({ eslPort: entry.eslPort, httpPort: entry.httpPort });
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    group,
    ...ports,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

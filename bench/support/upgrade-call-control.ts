/**
 * The upgrade benchmark's call-control groups: one reference service per (media server, group) in this
 * one process (a hundred processes would not fit the machine). `restart` is what a deployment does to a
 * drained group: graceful shutdown, then the new version on the same ports.
 */
import { CallControlService } from '../../runtime/call-control';
import { jsonLinesLogger } from '../../runtime/shared/logger';
import { serveIpc } from './upgrade-ipc';

const HOST = '127.0.0.1';
const silent = jsonLinesLogger({ write: () => undefined });
const services = new Map<string, { service: CallControlService; eslPort: number; httpPort: number }>();

async function startService(key: string, group: string, version: string, eslPort: number, httpPort: number): Promise<{ eslPort: number; httpPort: number }> {
  const service = new CallControlService({
    group,
    version,
    eslListen: { host: HOST, port: eslPort },
    httpListen: { host: HOST, port: httpPort },
    logger: silent,
    // The helper's stdout is the bench's report: no EMF lines there.
    writeMetrics: () => undefined,
    shutdownGraceMs: 5_000,
  });
  const ports = await service.start();
  services.set(key, { service, eslPort: ports.eslPort, httpPort: ports.httpPort });
  return { eslPort: ports.eslPort, httpPort: ports.httpPort };
}

serveIpc({
  start: async (message) => {
    const groups = message.groups as { key: string; group: string }[];
    const ports: Record<string, { eslPort: number; httpPort: number }> = {};
    for (const { key, group } of groups) ports[key] = await startService(key, group, String(message.version), 0, 0);
    return ports;
  },
  restart: async (message) => {
    const key = String(message.key);
    const running = services.get(key);
    if (running === undefined) throw new Error(`no service ${key}`);
    await running.service.shutdown();
    await startService(key, String(message.group), String(message.version), running.eslPort, running.httpPort);
  },
  stop: async () => {
    await Promise.all([...services.values()].map((running) => running.service.stop()));
    setImmediate(() => process.exit(0));
  },
});

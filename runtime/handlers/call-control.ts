import type { EventEmitter } from 'events';
import { CallControlService } from '../call-control';
import { errorMessage, jsonLinesLogger, withFields } from '../shared/logger';
import { parseCallControlEnvironment } from '../call-control/call-control-environment';
import { guardProcess } from './process-guard';

/**
 * ECS entry point of a call-control group member. Configured by environment; SIGTERM (ECS stopping the task) or
 * SIGINT starts a graceful shutdown, a second signal cuts the drain short (calls are detached, never hung up).
 */

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Resolves with the first shutdown signal received. */
function firstSignal(signals: EventEmitter): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string): void => {
      SHUTDOWN_SIGNALS.forEach((name) => signals.off(name, onSignal));
      resolve(signal);
    };
    SHUTDOWN_SIGNALS.forEach((name) => signals.on(name, onSignal));
  });
}

/** Runs the service until a shutdown signal has been handled; resolves with the process exit code. */
export async function main(
  env: NodeJS.ProcessEnv,
  signals: EventEmitter = process,
  writeError: (line: string) => void = (line) => process.stderr.write(line),
): Promise<number> {
  const parsed = parseCallControlEnvironment(env);
  if (!parsed.ok) {
    writeError(`call-control: invalid environment: ${parsed.problem}\n`);
    return 1;
  }
  const { settings } = parsed;
  const base = jsonLinesLogger({ level: settings.logLevel });
  const logger = settings.mediaServer === undefined ? base : withFields(base, { mediaServer: settings.mediaServer });
  const service = new CallControlService({
    group: settings.group,
    version: settings.version,
    eslListen: { host: settings.listenHost, port: settings.eslPort },
    httpListen: { host: settings.listenHost, port: settings.healthPort },
    shutdownGraceMs: settings.shutdownGraceMs,
    bridgeTarget: settings.bridgeTarget,
    faults: settings.faults,
    logger,
  });
  const stopping = firstSignal(signals);
  try {
    await service.start();
  } catch (error) {
    writeError(`call-control: could not start: ${errorMessage(error)}\n`);
    return 1;
  }
  const signal = await stopping;
  withFields(logger, { group: settings.group, version: settings.version }).info('shutdown signal received', { signal });
  const cutShort = (): void => void service.stop();
  SHUTDOWN_SIGNALS.forEach((name) => signals.once(name, cutShort));
  await service.shutdown();
  return 0;
}

if (require.main === module) {
  guardProcess();
  // A rejection is left to guardProcess: one JSON line, exit code 1.
  void main(process.env).then((code) => process.exit(code));
}

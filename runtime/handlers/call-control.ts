import type { EventEmitter } from 'events';
import { z } from 'zod';
import { bridgeTargetSchema, CallControlService, errorMessage, jsonLinesLogger, withFields } from '../call-control';
import { callControlGroupRouteSchema } from '../dialplan';
import { guardProcess } from './process-guard';

/**
 * ECS entry point of a call-control group member. Configured by environment; SIGTERM (ECS stopping the task) or
 * SIGINT starts a graceful shutdown, a second signal cuts the drain short (calls are detached, never hung up).
 */

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const MAX_SHUTDOWN_GRACE_MS = 3_600_000;

/** ECS task definitions often pass an empty string for "not set". */
const unsetIfEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

const requiredText = z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') });

const wholeNumber = (max: number, meaning: string) =>
  z
    .string()
    .regex(/^[0-9]+$/, `must be ${meaning}`)
    .transform(Number)
    .pipe(z.number().max(max, `must be ${meaning}`));

const portVariable = (fallback: number) =>
  z.preprocess(unsetIfEmpty, wholeNumber(65535, 'a port number (0-65535)').default(fallback));

const envSchema = z.object({
  CALL_CONTROL_GROUP: z.preprocess(unsetIfEmpty, requiredText.pipe(callControlGroupRouteSchema.shape.id)),
  CALL_CONTROL_VERSION: z.preprocess(
    unsetIfEmpty,
    requiredText.regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/, 'must be 1-128 letters, digits, ".", "_", "+" or "-"'),
  ),
  CALL_CONTROL_ESL_PORT: portVariable(8084),
  CALL_CONTROL_HEALTH_PORT: portVariable(8080),
  CALL_CONTROL_LISTEN_HOST: z.preprocess(unsetIfEmpty, z.string().regex(/^\S+$/, 'must be a host name or IP address').default('0.0.0.0')),
  CALL_CONTROL_BRIDGE_TARGET: z.preprocess(unsetIfEmpty, bridgeTargetSchema.optional()),
  CALL_CONTROL_SHUTDOWN_GRACE_MS: z.preprocess(
    unsetIfEmpty,
    wholeNumber(MAX_SHUTDOWN_GRACE_MS, `a number of milliseconds (0-${MAX_SHUTDOWN_GRACE_MS})`).optional(),
  ),
});

type CallControlConfig = z.output<typeof envSchema>;

/** The configuration, or one line naming each bad variable. */
function parseEnv(env: NodeJS.ProcessEnv): { ok: true; config: CallControlConfig } | { ok: false; problem: string } {
  const parsed = envSchema.safeParse(env);
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, problem: parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ') };
}

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
  const parsed = parseEnv(env);
  if (!parsed.ok) {
    writeError(`call-control: invalid environment: ${parsed.problem}\n`);
    return 1;
  }
  const { config } = parsed;
  const logger = jsonLinesLogger();
  const service = new CallControlService({
    group: config.CALL_CONTROL_GROUP,
    version: config.CALL_CONTROL_VERSION,
    eslListen: { host: config.CALL_CONTROL_LISTEN_HOST, port: config.CALL_CONTROL_ESL_PORT },
    httpListen: { host: config.CALL_CONTROL_LISTEN_HOST, port: config.CALL_CONTROL_HEALTH_PORT },
    shutdownGraceMs: config.CALL_CONTROL_SHUTDOWN_GRACE_MS,
    bridgeTarget: config.CALL_CONTROL_BRIDGE_TARGET,
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
  withFields(logger, { group: config.CALL_CONTROL_GROUP, version: config.CALL_CONTROL_VERSION }).info('shutdown signal received', { signal });
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

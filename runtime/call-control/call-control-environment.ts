import { z } from 'zod';
import { groupIdSchema, mediaServerIdSchema } from '../contracts/call-control-ids';
import { IMAGE_TAG_SYNTAX, isImageTag } from '../contracts/container-image';
import { CALL_CONTROL_ESL_PORT, CALL_CONTROL_HEALTH_PORT } from './call-control-ports';
import { bridgeTargetSchema } from './default-call-flow';
import { DEFAULT_LOG_LEVEL, LOG_LEVEL_VARIABLE, logLevelSchema, type LogLevel } from '../shared/logger';
import { callFaultCauseSchema, callFaultModeSchema, callFaultPercentSchema, type CallFaults } from './call-faults';

/**
 * The environment that configures a call-control container: built here for its task definition (the constructs) and
 * the local deployer, and parsed here by its entry point, so the two cannot drift apart.
 */

export const CALL_CONTROL_VARIABLES = {
  group: 'CALL_CONTROL_GROUP',
  version: 'CALL_CONTROL_VERSION',
  mediaServer: 'CALL_CONTROL_MEDIA_SERVER',
  eslPort: 'CALL_CONTROL_ESL_PORT',
  healthPort: 'CALL_CONTROL_HEALTH_PORT',
  listenHost: 'CALL_CONTROL_LISTEN_HOST',
  bridgeTarget: 'CALL_CONTROL_BRIDGE_TARGET',
  shutdownGraceMs: 'CALL_CONTROL_SHUTDOWN_GRACE_MS',
  logLevel: LOG_LEVEL_VARIABLE,
  failPercent: 'CALL_CONTROL_FAIL_PERCENT',
  failMode: 'CALL_CONTROL_FAIL_MODE',
  failCause: 'CALL_CONTROL_FAIL_CAUSE',
} as const;

export const MAX_SHUTDOWN_GRACE_MS = 3_600_000;
const ANY_ADDRESS = '0.0.0.0';

/** One call-control container's configuration. */
export interface CallControlSettings {
  readonly group: string;
  /** The image tag it runs, which `/health` reports. */
  readonly version: string;
  /** `<site>/<media server>` it serves; names every log line. @default none */
  readonly mediaServer?: string;
  /** Outbound Event Socket listener (0: any free port). @default CALL_CONTROL_ESL_PORT */
  readonly eslPort?: number;
  /** `/health` and `/calls` (0: any free port). @default CALL_CONTROL_HEALTH_PORT */
  readonly healthPort?: number;
  /** @default 0.0.0.0 */
  readonly listenHost?: string;
  /** Dial string for calls without `vp_bridge_target`. @default none: such calls are held */
  readonly bridgeTarget?: string;
  /** @default the service's */
  readonly shutdownGraceMs?: number;
  /** @default info */
  readonly logLevel?: LogLevel;
  /** Fault injection (canary trials and demos): fail this share of calls. @default none: every call runs normally */
  readonly faults?: CallFaults;
}

const optional = (name: string, value: string | number | undefined) => (value === undefined ? {} : { [name]: String(value) });

/** The variables that configure a container with `settings`; the ports are always spelled out. */
export function callControlEnvironment(settings: CallControlSettings): Record<string, string> {
  return {
    [CALL_CONTROL_VARIABLES.group]: settings.group,
    [CALL_CONTROL_VARIABLES.version]: settings.version,
    ...optional(CALL_CONTROL_VARIABLES.mediaServer, settings.mediaServer),
    [CALL_CONTROL_VARIABLES.eslPort]: String(settings.eslPort ?? CALL_CONTROL_ESL_PORT),
    [CALL_CONTROL_VARIABLES.healthPort]: String(settings.healthPort ?? CALL_CONTROL_HEALTH_PORT),
    ...optional(CALL_CONTROL_VARIABLES.listenHost, settings.listenHost),
    ...optional(CALL_CONTROL_VARIABLES.bridgeTarget, settings.bridgeTarget),
    ...optional(CALL_CONTROL_VARIABLES.shutdownGraceMs, settings.shutdownGraceMs),
    ...optional(CALL_CONTROL_VARIABLES.logLevel, settings.logLevel),
    ...callFaultEnvironment(settings.faults),
  };
}

/** The variables that turn fault injection on (none for `undefined`). */
export function callFaultEnvironment(faults: CallFaults | undefined): Record<string, string> {
  return {
    ...optional(CALL_CONTROL_VARIABLES.failPercent, faults?.percent),
    ...optional(CALL_CONTROL_VARIABLES.failMode, faults?.mode),
    ...optional(CALL_CONTROL_VARIABLES.failCause, faults?.cause),
  };
}

/** ECS task definitions often pass an empty string for "not set". */
const unsetIfEmpty = (value: unknown): unknown => (value === '' ? undefined : value);
const variable = <Schema extends z.ZodType>(schema: Schema) => z.preprocess(unsetIfEmpty, schema);
const requiredText = z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') });
const wholeNumber = (max: number, meaning: string) =>
  z
    .string()
    .regex(/^[0-9]+$/, `must be ${meaning}`)
    .transform(Number)
    .pipe(z.number().max(max, `must be ${meaning}`));
const percent = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?$/, 'must be a percent (0-100)')
  .transform(Number)
  .pipe(callFaultPercentSchema);
const port = (fallback: number) => variable(wholeNumber(65535, 'a port number (0-65535)').default(fallback));

const environmentSchema = z
  .object({
    [CALL_CONTROL_VARIABLES.group]: variable(requiredText.pipe(groupIdSchema)),
    [CALL_CONTROL_VARIABLES.version]: variable(requiredText.refine(isImageTag, `must be ${IMAGE_TAG_SYNTAX}`)),
    [CALL_CONTROL_VARIABLES.mediaServer]: variable(mediaServerIdSchema.optional()),
    [CALL_CONTROL_VARIABLES.eslPort]: port(CALL_CONTROL_ESL_PORT),
    [CALL_CONTROL_VARIABLES.healthPort]: port(CALL_CONTROL_HEALTH_PORT),
    [CALL_CONTROL_VARIABLES.listenHost]: variable(z.string().regex(/^\S+$/, 'must be a host name or IP address').default(ANY_ADDRESS)),
    [CALL_CONTROL_VARIABLES.bridgeTarget]: variable(bridgeTargetSchema.optional()),
    [CALL_CONTROL_VARIABLES.shutdownGraceMs]: variable(wholeNumber(MAX_SHUTDOWN_GRACE_MS, `a number of milliseconds (0-${MAX_SHUTDOWN_GRACE_MS})`).optional()),
    [CALL_CONTROL_VARIABLES.logLevel]: variable(logLevelSchema.default(DEFAULT_LOG_LEVEL)),
    [CALL_CONTROL_VARIABLES.failPercent]: variable(percent.optional()),
    [CALL_CONTROL_VARIABLES.failMode]: variable(callFaultModeSchema.optional()),
    [CALL_CONTROL_VARIABLES.failCause]: variable(callFaultCauseSchema.optional()),
  })
  .superRefine((env, context) => {
    if (env.CALL_CONTROL_FAIL_PERCENT !== undefined) return;
    for (const name of [CALL_CONTROL_VARIABLES.failMode, CALL_CONTROL_VARIABLES.failCause] as const) {
      if (env[name] !== undefined) context.addIssue({ code: 'custom', path: [name], message: `needs ${CALL_CONTROL_VARIABLES.failPercent}` });
    }
  })
  .transform(
    (env) =>
      ({
        group: env.CALL_CONTROL_GROUP,
        version: env.CALL_CONTROL_VERSION,
        mediaServer: env.CALL_CONTROL_MEDIA_SERVER,
        eslPort: env.CALL_CONTROL_ESL_PORT,
        healthPort: env.CALL_CONTROL_HEALTH_PORT,
        listenHost: env.CALL_CONTROL_LISTEN_HOST,
        bridgeTarget: env.CALL_CONTROL_BRIDGE_TARGET,
        shutdownGraceMs: env.CALL_CONTROL_SHUTDOWN_GRACE_MS,
        logLevel: env[LOG_LEVEL_VARIABLE],
        faults: faultsOf(env.CALL_CONTROL_FAIL_PERCENT, env.CALL_CONTROL_FAIL_MODE, env.CALL_CONTROL_FAIL_CAUSE),
      }) satisfies CallControlSettings,
  );

export type CallControlEnvironment = z.output<typeof environmentSchema>;

function faultsOf(percent: number | undefined, mode: CallFaults['mode'], cause: CallFaults['cause']): CallFaults | undefined {
  if (percent === undefined) return undefined;
  return { percent, ...(mode === undefined ? {} : { mode }), ...(cause === undefined ? {} : { cause }) };
}

/** The configuration in `env`, or one line naming each bad variable (`CALL_CONTROL_GROUP is required; ...`). */
export function parseCallControlEnvironment(env: Readonly<Record<string, string | undefined>>): { ok: true; settings: CallControlEnvironment } | { ok: false; problem: string } {
  const parsed = environmentSchema.safeParse(env);
  if (parsed.success) return { ok: true, settings: parsed.data };
  return { ok: false, problem: parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ') };
}

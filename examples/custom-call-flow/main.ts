import { z } from 'zod';
import { CallControlService, type BoundPorts, type CallControlServiceOptions } from 'voiceplane/call-control';
import { createFrontDeskFlow } from './front-desk-flow';

/** This call-control image's configuration, from its environment (set per group by the task definition). */
const environmentSchema = z.object({
  CALL_CONTROL_GROUP: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be a group id (e.g. blue)'),
  CALL_CONTROL_VERSION: z.string().min(1, 'must not be empty'),
  CALL_CONTROL_ESL_PORT: z.coerce.number().int().min(0).max(65535).default(8084),
  CALL_CONTROL_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  CALL_CONTROL_LISTEN_HOST: z.string().default('0.0.0.0'),
});

export const FRONT_DESK = createFrontDeskFlow({
  greeting: 'ivr/ivr-welcome.wav',
  desks: { '1555010': 'sofia/gateway/sales/${destination_number}', '1555020': 'sofia/gateway/support/${destination_number}' },
  unknownNumberPrompt: 'ivr/ivr-that_was_an_invalid_entry.wav',
});

/**
 * Starts the reference service with the front-desk flow; throws one line naming each bad variable. `output` says
 * where logs and metrics go (default: JSON lines on stdout, which the task's log driver ships).
 */
export async function startFrontDesk(
  env: Readonly<Record<string, string | undefined>>,
  output: Pick<CallControlServiceOptions, 'logger' | 'writeMetrics'> = {},
): Promise<{ service: CallControlService; ports: BoundPorts }> {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  const settings = parsed.data;
  const service = new CallControlService({
    group: settings.CALL_CONTROL_GROUP,
    version: settings.CALL_CONTROL_VERSION,
    eslListen: { host: settings.CALL_CONTROL_LISTEN_HOST, port: settings.CALL_CONTROL_ESL_PORT },
    httpListen: { host: settings.CALL_CONTROL_LISTEN_HOST, port: settings.CALL_CONTROL_HEALTH_PORT },
    flow: FRONT_DESK,
    ...output,
  });
  return { service, ports: await service.start() };
}

// As a container's entry point: SIGTERM (ECS stopping the task) drains the calls in progress, then exits.
if (require.main === module) {
  startFrontDesk(process.env).then(
    ({ service }) => process.once('SIGTERM', () => void service.shutdown().then(() => process.exit(0))),
    (error: Error) => {
      process.stderr.write(`front desk: ${error.message}\n`);
      process.exit(1);
    },
  );
}

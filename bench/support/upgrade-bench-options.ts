import { z } from 'zod';

/** The upgrade benchmark's size: `npm run bench:upgrade -- [--media-servers N] [--concurrency N] [--step-functions-media-servers N]`. */
export interface UpgradeBenchOptions {
  /** Media servers the local CLI path upgrades (default 500, the target's fleet). */
  readonly mediaServers: number;
  /** Media servers the local path upgrades at a time (default one per 12.5, so each worker takes as many in turn at any size). */
  readonly concurrency: number;
  /** Media servers of the Step Functions path, all at once (default 20). */
  readonly stepFunctionsMediaServers: number;
}

const MEDIA_SERVERS_PER_WORKER = 12.5;

const count = (flag: string) =>
  z.coerce.number({ error: `${flag} must be a whole number` }).int(`${flag} must be a whole number`).min(1, `${flag} must be at least 1`).max(2_000, `${flag} must be at most 2000`);

const schema = z
  .object({
    '--media-servers': count('--media-servers').default(500),
    '--concurrency': count('--concurrency').optional(),
    '--step-functions-media-servers': count('--step-functions-media-servers').default(20),
  })
  .strict();

/** Parses the benchmark's flags; throws one line naming the flag. */
export function parseUpgradeBenchOptions(args: readonly string[]): UpgradeBenchOptions {
  const pairs: Record<string, string> = {};
  for (let index = 0; index < args.length; index += 2) {
    const [flag, value] = [args[index], args[index + 1]];
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
    pairs[flag] = value;
  }
  const parsed = schema.safeParse(pairs);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(issue.code === 'unrecognized_keys' ? `unknown flag ${issue.keys[0]} (flags: ${Object.keys(schema.shape).join(', ')})` : issue.message);
  }
  const options = parsed.data;
  return {
    mediaServers: options['--media-servers'],
    concurrency: options['--concurrency'] ?? Math.max(1, Math.round(options['--media-servers'] / MEDIA_SERVERS_PER_WORKER)),
    stepFunctionsMediaServers: options['--step-functions-media-servers'],
  };
}

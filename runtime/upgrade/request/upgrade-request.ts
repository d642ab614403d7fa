import { z } from 'zod';
import { parseInput, strictObjectError } from './input-error';
import { groupIdSchema, imageSchema, mediaServerIdSchema, uniqueList, versionSchema } from './upgrade-fields';
import { imageRepositoryRefusal } from '../../contracts/image-allow-list';
import { canaryPolicySchema } from '../canary/canary-policy';

/**
 * Media servers upgraded at once. Each runs in a child execution of a Distributed Map (up to 10,000 at
 * once), and each child runs one Lambda step at a time: 1,000 keeps an upgrade within an account's
 * default Lambda concurrency.
 */
export const MAX_CONCURRENCY = 1_000;
export const MAX_DRAIN_SECONDS_LIMIT = 86_400;
export const DEFAULT_MAX_DRAIN_SECONDS = 900;
export const DEFAULT_CONCURRENCY = 5;

/** Step Functions execution names: 1-80 letters, digits, '-' and '_'. */
export const upgradeIdSchema = z
  .string({ error: 'must be text' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/, { error: (issue) => `${JSON.stringify(issue.input)} must be 1-80 letters, digits, '-' or '_'` });

const mediaServerListSchema = uniqueList(mediaServerIdSchema, 'media server');

/** `"all"`, or a list of media server ids (issues of the list keep their index in the path). */
const mediaServersSchema = z.unknown().transform((value, context): 'all' | string[] => {
  if (value === 'all') return 'all';
  if (!Array.isArray(value)) {
    context.addIssue({ code: 'custom', message: 'must be "all" or a list of media server ids (SITE/MEDIA-SERVER)' });
    return z.NEVER;
  }
  const parsed = mediaServerListSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  parsed.error.issues.forEach((issue) => context.addIssue({ code: 'custom', path: issue.path, message: issue.message }));
  return z.NEVER;
});

const wholeNumberIn = (min: number, max: number, unit: string) =>
  z
    .int({ error: (issue) => `must be a whole number of ${unit} in ${min}..${max} (got ${JSON.stringify(issue.input)})` })
    .min(min, { error: (issue) => `must be a whole number of ${unit} in ${min}..${max} (got ${String(issue.input)})` })
    .max(max, { error: (issue) => `must be a whole number of ${unit} in ${min}..${max} (got ${String(issue.input)})` });

/** What an operator asks for: the Step Functions execution input and what `voiceplane upgrade` builds from its options. */
export const upgradeRequestSchema = z.strictObject(
  {
    /** Reuse an id to resume an upgrade; without one the orchestrator assigns one. */
    upgradeId: upgradeIdSchema.optional(),
    image: imageSchema,
    version: versionSchema,
    /** Groups in blue-green order: each media server upgrades them one after the other. */
    groups: uniqueList(groupIdSchema, 'group'),
    mediaServers: mediaServersSchema,
    maxDrainSeconds: wholeNumberIn(1, MAX_DRAIN_SECONDS_LIMIT, 'seconds').default(DEFAULT_MAX_DRAIN_SECONDS),
    onDrainTimeout: z.enum(['wait', 'force', 'abort'], { error: (issue) => `must be wait, force or abort (got ${JSON.stringify(issue.input)})` }).default('wait'),
    /** Media servers upgraded at the same time. */
    concurrency: wholeNumberIn(1, MAX_CONCURRENCY, 'media servers').default(DEFAULT_CONCURRENCY),
    /** Shares of new calls each upgraded group takes first, each held and judged, before its full reference. */
    canary: canaryPolicySchema.optional(),
  },
  { error: strictObjectError },
);

export type UpgradeRequest = z.output<typeof upgradeRequestSchema>;
export type UpgradeRequestInput = z.input<typeof upgradeRequestSchema>;

/**
 * The request schema of a fleet that deploys only `allowedImageRepositories` (the fleet inventory's list): any other
 * `image` is refused. Without a list (a hand-written local inventory) every repository is accepted.
 */
export function upgradeRequestSchemaAllowing(allowedImageRepositories: readonly string[] | undefined) {
  return upgradeRequestSchema.superRefine((request, context) => {
    const refusal = imageRepositoryRefusal(request.image, allowedImageRepositories);
    if (refusal !== undefined) context.addIssue({ code: 'custom', path: ['image'], message: refusal });
  });
}

/** Validates an upgrade request against the fleet's image allow-list; throws `InvalidInput` naming every bad field in one line. */
export function parseUpgradeRequest(input: unknown, allowedImageRepositories?: readonly string[]): UpgradeRequest {
  return parseInput(upgradeRequestSchemaAllowing(allowedImageRepositories), input, 'upgrade request');
}

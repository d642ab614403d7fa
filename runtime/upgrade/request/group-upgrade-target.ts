import { z } from 'zod';
import { parseInput, strictObjectError } from './input-error';
import { upgradeIdSchema, upgradeRequestSchema } from './upgrade-request';
import { groupIdSchema, mediaServerIdSchema } from './upgrade-fields';
import type { GroupUpgradeTarget } from '../flow/upgrade-steps';

const requestShape = upgradeRequestSchema.shape;

/** The input of every step, as Step Functions passes it (no defaults: the plan filled them in). */
export const groupUpgradeTargetSchema = z.strictObject(
  {
    upgradeId: upgradeIdSchema,
    mediaServerId: mediaServerIdSchema,
    groupId: groupIdSchema,
    image: requestShape.image,
    version: requestShape.version,
    maxDrainSeconds: requestShape.maxDrainSeconds.unwrap(),
    onDrainTimeout: requestShape.onDrainTimeout.unwrap(),
    runId: z.string().regex(/^[a-z0-9]{1,32}$/, 'must be 1-32 lowercase letters or digits').optional(),
    canary: requestShape.canary.unwrap().nullable().optional(),
  },
  { error: strictObjectError },
) satisfies z.ZodType<GroupUpgradeTarget>;

/** Validates a step's input; throws `InvalidInput` naming every bad field. */
export function parseGroupUpgradeTarget(input: unknown): GroupUpgradeTarget {
  return parseInput(groupUpgradeTargetSchema, input, 'group upgrade target');
}

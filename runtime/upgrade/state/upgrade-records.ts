import { z } from 'zod';
import type { GroupUpgradePhase } from '../flow/upgrade-steps';

/** The shapes the state store keeps (zod-validated on every read: a DynamoDB item is external input). */

export const GROUP_UPGRADE_PHASES = [
  'pending',
  'preflight-passed',
  'draining',
  'drained',
  'deploying',
  'deployed',
  'verified',
  'canary',
  'restored',
  'rolled-back',
  'failed',
] as const satisfies readonly GroupUpgradePhase[];

/** Progress order; a Record, so a phase added to the contract fails to compile until it is placed here. */
const PHASE_RANK: Readonly<Record<GroupUpgradePhase, number>> = {
  pending: 0,
  'preflight-passed': 1,
  draining: 2,
  drained: 3,
  deploying: 4,
  deployed: 5,
  verified: 6,
  canary: 7,
  restored: 8,
  'rolled-back': 8,
  failed: 8,
};

/** The group's upgrade is over, successfully or not. */
export function isTerminal(phase: GroupUpgradePhase): boolean {
  return PHASE_RANK[phase] === PHASE_RANK.restored;
}

/** `phase` comes after `reference` (the step that leads to `reference` already ran). */
export function isPast(phase: GroupUpgradePhase, reference: GroupUpgradePhase): boolean {
  return PHASE_RANK[phase] > PHASE_RANK[reference];
}

export const phaseSchema = z.enum(GROUP_UPGRADE_PHASES);

const releaseFields = { image: z.string(), version: z.string() };

export const groupRecordSchema = z.object({
  upgradeId: z.string(),
  mediaServerId: z.string(),
  groupId: z.string(),
  ...releaseFields,
  phase: phaseSchema,
  previousImage: z.string().optional(),
  previousVersion: z.string().optional(),
  drainStartedAt: z.number().optional(),
  drainWrittenAt: z.number().optional(),
  lastCount: z.number().optional(),
  lastSampleAt: z.number().optional(),
  timedOutAt: z.number().optional(),
  drainedAt: z.number().optional(),
  forcedCalls: z.number().optional(),
  deploymentId: z.string().optional(),
  deployStartedAt: z.number().optional(),
  deployedAt: z.number().optional(),
  verifiedAt: z.number().optional(),
  /** The canary step held now (0-based) and since when. */
  canaryStep: z.number().optional(),
  canaryStepStartedAt: z.number().optional(),
  /** What the step's watches saw of the group's calls so far (canary-evidence.ts), as JSON text. */
  canaryEvidence: z.string().optional(),
  /** Every canary step passed (the full reference comes next). */
  canaryPassedAt: z.number().optional(),
  /** The canary failed: its share went to 0 and the group was drained at `canaryFailedAt`, for `canaryFailure`. */
  canaryFailedAt: z.number().optional(),
  canaryFailure: z.string().optional(),
  /** The failed canary's calls all ended: the rollback may redeploy. */
  canaryDrainedAt: z.number().optional(),
  restoredAt: z.number().optional(),
  /** A retried rollback waits for this deployment instead of starting another. */
  rollbackDeploymentId: z.string().optional(),
  rollbackStartedAt: z.number().optional(),
  failure: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

export type GroupRecord = z.output<typeof groupRecordSchema>;
/** The fields a step may change (identity and timestamps are the store's). */
export type GroupRecordChanges = Partial<Omit<GroupRecord, 'upgradeId' | 'mediaServerId' | 'groupId' | 'createdAt' | 'updatedAt' | 'phase'>>;

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export const upgradeRecordSchema = z.object({
  upgradeId: z.string(),
  /** The validated request, as JSON text (DynamoDB maps cannot hold every JSON value the same way); readers parse it. */
  request: z.string().refine(isJsonText, 'is not JSON text'),
  createdAt: z.number(),
  /** Why no further group may start (a canary failed: the version is bad); set once. */
  haltedBy: z.string().optional(),
});
export type UpgradeRecord = z.output<typeof upgradeRecordSchema>;

/** An upgrade's entry in the history partition, which lists upgrades in start order. */
export const historyEntrySchema = z.object({ upgradeId: z.string(), createdAt: z.number() });

export const leaseSchema = z.object({
  mediaServerId: z.string(),
  owner: z.string(),
  groupId: z.string(),
  leaseUntil: z.number(),
});
export type Lease = z.output<typeof leaseSchema>;

export const auditEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('phase'), from: phaseSchema, to: phaseSchema }),
  z.object({ type: z.literal('preflight'), ok: z.boolean(), detail: z.string() }),
  /** A verified route-table write; `startedAt` is when the write was sent, the event's `at` when it was verified. */
  z.object({ type: z.literal('route-change'), action: z.enum(['drain', 'restore', 'share']), table: z.string(), startedAt: z.number() }),
  z.object({ type: z.literal('drain-count'), remaining: z.number(), elapsedSeconds: z.number(), timedOut: z.boolean() }),
  z.object({ type: z.literal('force-end'), uuid: z.string(), cause: z.string() }),
  z.object({ type: z.literal('deploy'), image: z.string(), version: z.string(), status: z.enum(['started', 'complete', 'failed']), detail: z.string() }),
  z.object({ type: z.literal('health'), instance: z.string(), ok: z.boolean(), detail: z.string() }),
  /** A canary step: `start` (its share written), `pass`, `fail` (the reasons), or `backed-out` (a failed canary's last call ended). */
  z.object({
    type: z.literal('canary'),
    step: z.number(),
    share: z.number(),
    verdict: z.enum(['start', 'pass', 'fail', 'backed-out']),
    calls: z.number(),
    heldSeconds: z.number(),
    reasons: z.array(z.string()),
  }),
  z.object({ type: z.literal('rollback'), cause: z.string(), outcome: phaseSchema, detail: z.string() }),
]);
export type AuditEvent = z.output<typeof auditEventSchema>;

export const auditEntrySchema = z.object({
  upgradeId: z.string(),
  mediaServerId: z.string(),
  groupId: z.string(),
  at: z.number(),
  event: auditEventSchema,
});
export type AuditEntry = z.output<typeof auditEntrySchema>;

export interface GroupKey {
  readonly upgradeId: string;
  readonly mediaServerId: string;
  readonly groupId: string;
}

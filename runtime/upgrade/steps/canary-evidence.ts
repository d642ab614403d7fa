import { z } from 'zod';
import { groupCounts, NO_CALLS, type CanaryObservation, type GroupCallCounts, type MemberHealth } from '../canary';

/**
 * What a canary step has seen of its group, kept in the group's record between checks: the sum of every watch
 * of the step (a check that watches for a while and stops, as a Lambda invocation does, or one watch held by a
 * long-lived run), so a step is judged on all of it, whichever process held it.
 */
export interface CanaryEvidence {
  readonly counts: GroupCallCounts;
  readonly health: readonly MemberHealth[];
  /** Media servers a watch could not observe at its last look. */
  readonly unobserved: readonly string[];
}

const count = z.number().int().nonnegative();

export const canaryEvidenceSchema = z.object({
  counts: z.object({
    calls: count,
    failedCalls: count,
    shortCalls: count,
    failureCauses: z.record(z.string(), count),
    refusedConnections: count,
    leftCalls: count,
  }),
  health: z.array(z.object({ url: z.string(), checks: count, failures: count, consecutiveFailures: count, lastProblem: z.string().optional() })),
  unobserved: z.array(z.string()),
}) satisfies z.ZodType<CanaryEvidence>;

export const NO_EVIDENCE: CanaryEvidence = { counts: NO_CALLS, health: [], unobserved: [] };

/** `evidence` plus what one watch observed (its counts since it started). */
export function addObservation(evidence: CanaryEvidence, observation: CanaryObservation): CanaryEvidence {
  const seen = groupCounts(observation);
  const { counts } = evidence;
  const failureCauses: Record<string, number> = { ...counts.failureCauses };
  for (const [cause, calls] of Object.entries(seen.failureCauses)) failureCauses[cause] = (failureCauses[cause] ?? 0) + calls;
  return {
    counts: {
      calls: counts.calls + seen.calls,
      failedCalls: counts.failedCalls + seen.failedCalls,
      shortCalls: counts.shortCalls + seen.shortCalls,
      failureCauses,
      refusedConnections: counts.refusedConnections + seen.refusedConnections,
      leftCalls: counts.leftCalls + seen.leftCalls,
    },
    health: addHealth(evidence.health, observation.health),
    unobserved: observation.unobserved,
  };
}

/** Health checks add up; failures in a row go on from the earlier watches' when this watch saw nothing but failures. */
function addHealth(earlier: readonly MemberHealth[], watched: readonly MemberHealth[]): MemberHealth[] {
  const byUrl = new Map(earlier.map((member) => [member.url, member]));
  for (const member of watched) {
    const before = byUrl.get(member.url);
    if (before === undefined || member.checks === 0) {
      if (before === undefined) byUrl.set(member.url, member);
      continue;
    }
    const onlyFailures = member.consecutiveFailures === member.checks;
    const lastProblem = member.lastProblem ?? before.lastProblem;
    byUrl.set(member.url, {
      url: member.url,
      checks: before.checks + member.checks,
      failures: before.failures + member.failures,
      consecutiveFailures: onlyFailures ? before.consecutiveFailures + member.consecutiveFailures : member.consecutiveFailures,
      ...(lastProblem === undefined ? {} : { lastProblem }),
    });
  }
  return [...byUrl.values()];
}

/** The evidence as the observation a verdict judges. */
export function evidenceObservation(evidence: CanaryEvidence, groupId: string, startedAt: number, observedAt: number, shortCallSeconds: number): CanaryObservation {
  return { groupId, startedAt, observedAt, shortCallSeconds, groups: { [groupId]: evidence.counts }, health: evidence.health, unobserved: evidence.unobserved };
}

import type { CanaryPolicy } from './canary-policy';
import { groupCounts, type CanaryObservation } from './canary-observation';

/** What a canary step does next: keep holding, move on (next share, or the full reference after the last), or roll back. */
export interface CanaryVerdict {
  readonly outcome: 'hold' | 'pass' | 'fail';
  /** One operator-readable line per finding, with figures: why it fails, or what it still waits for, or what it saw. */
  readonly reasons: readonly string[];
}

/**
 * Judges one canary step from what was observed since the step began, `elapsedMs` into it (rules in canary-policy.ts):
 * fail on a crossed threshold (percentages from `minCalls` calls on), else pass once the hold is met, else hold, and
 * fail a step still holding at `maxHoldSeconds`. Pure.
 */
export function canaryVerdict(policy: CanaryPolicy, observation: CanaryObservation, elapsedMs: number): CanaryVerdict {
  const { thresholds, hold } = policy;
  const group = observation.groupId;
  const counts = groupCounts(observation);
  const judged = counts.calls;
  const failures: string[] = [];

  const failedConnections = counts.refusedConnections + counts.leftCalls;
  if (failedConnections > thresholds.maxFailedConnections) {
    failures.push(
      `${failedConnections} failed call-control connection(s) to ${group} (${counts.refusedConnections} refused, ${counts.leftCalls} live call(s) left), more than the ${thresholds.maxFailedConnections} allowed`,
    );
  }
  for (const member of observation.health) {
    if (member.consecutiveFailures >= thresholds.maxConsecutiveHealthFailures) {
      failures.push(`${member.url} failed ${member.consecutiveFailures} health check(s) in a row (limit ${thresholds.maxConsecutiveHealthFailures}): ${member.lastProblem ?? 'no detail'}`);
    }
  }
  if (judged > 0 && judged >= thresholds.minCalls) {
    const failedPercent = percentOf(counts.failedCalls, judged);
    if (failedPercent > thresholds.maxFailedCallPercent) {
      failures.push(`${counts.failedCalls} of ${judged} calls of ${group} failed (${format(failedPercent)} %, limit ${format(thresholds.maxFailedCallPercent)} %): ${describeCauses(counts.failureCauses)}`);
    }
    const shortPercent = percentOf(counts.shortCalls, judged);
    if (shortPercent > thresholds.maxShortCallPercent) {
      failures.push(
        `${counts.shortCalls} of ${judged} calls of ${group} lasted under ${format(thresholds.shortCallSeconds)} s (${format(shortPercent)} %, limit ${format(thresholds.maxShortCallPercent)} %)`,
      );
    }
  }
  if (failures.length > 0) return { outcome: 'fail', reasons: failures };

  const waiting: string[] = [];
  if (hold.seconds !== undefined && elapsedMs < hold.seconds * 1_000) waiting.push(`held ${format(elapsedMs / 1_000)} s of ${format(hold.seconds)} s`);
  const callsNeeded = Math.max(hold.calls ?? 0, thresholds.minCalls);
  if (judged < callsNeeded) waiting.push(`${judged} of ${callsNeeded} calls of ${group} seen`);
  if (observation.unobserved.length > 0) waiting.push(`no events from ${observation.unobserved.join(', ')}`);
  if (waiting.length === 0) {
    return {
      outcome: 'pass',
      reasons: [
        `${judged} calls of ${group}: ${counts.failedCalls} failed (${format(percentOf(counts.failedCalls, judged))} %), ${counts.shortCalls} short (${format(percentOf(counts.shortCalls, judged))} %), ${failedConnections} failed connection(s) in ${format(elapsedMs / 1_000)} s`,
      ],
    };
  }
  if (elapsedMs >= policy.maxHoldSeconds * 1_000) {
    return { outcome: 'fail', reasons: waiting.map((reason) => `still holding after the ${format(policy.maxHoldSeconds)} s limit: ${reason}`) };
  }
  return { outcome: 'hold', reasons: waiting };
}

function percentOf(part: number, whole: number): number {
  return whole === 0 ? 0 : (part * 100) / whole;
}

/** At most one decimal, none when whole: 5, 12.5. */
function format(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function describeCauses(causes: Readonly<Record<string, number>>): string {
  return Object.entries(causes)
    .sort(([, first], [, second]) => second - first)
    .map(([cause, count]) => `${cause} ×${count}`)
    .join(', ');
}

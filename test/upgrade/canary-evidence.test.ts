import { canaryVerdict, parseCanaryPolicy, type CanaryObservation } from '../../runtime/upgrade/canary';
import { addObservation, canaryEvidenceSchema, evidenceObservation, NO_EVIDENCE } from '../../runtime/upgrade/steps/canary-evidence';

/** What one watch of group blue saw: `calls` ended calls, `failed` of them with NORMAL_TEMPORARY_FAILURE, and health checks of one member. */
function watched(calls: number, failed: number, health: { checks: number; failures: number; consecutiveFailures: number }): CanaryObservation {
  return {
    groupId: 'blue',
    startedAt: 0,
    observedAt: 1,
    shortCallSeconds: 2,
    groups: {
      blue: { calls, failedCalls: failed, shortCalls: 0, failureCauses: failed > 0 ? { NORMAL_TEMPORARY_FAILURE: failed } : {}, refusedConnections: 0, leftCalls: 0 },
      green: { calls: 99, failedCalls: 99, shortCalls: 0, failureCauses: {}, refusedConnections: 0, leftCalls: 0 },
    },
    health: [{ url: 'http://blue/health', ...health, ...(health.failures > 0 ? { lastProblem: 'GET http://blue/health failed' } : {}) }],
    unobserved: [],
  };
}

describe('a canary step judged on the sum of its watches', () => {
  const policy = parseCanaryPolicy({ steps: [5], hold: { seconds: 60 }, thresholds: { minCalls: 10, maxConsecutiveHealthFailures: 3 } });

  it('adds the group calls of each watch (not the other groups), and survives its record round trip', () => {
    const evidence = addObservation(addObservation(NO_EVIDENCE, watched(6, 0, { checks: 2, failures: 0, consecutiveFailures: 0 })), watched(6, 1, { checks: 2, failures: 0, consecutiveFailures: 0 }));
    expect(evidence.counts).toMatchObject({ calls: 12, failedCalls: 1, failureCauses: { NORMAL_TEMPORARY_FAILURE: 1 } });
    expect(canaryEvidenceSchema.parse(JSON.parse(JSON.stringify(evidence)))).toEqual(evidence);
    // Neither watch alone had the 10 calls the step needs; together they pass it (1 of 12 failed: under 10 %).
    expect(canaryVerdict(policy, watched(6, 0, { checks: 2, failures: 0, consecutiveFailures: 0 }), 61_000).outcome).toBe('hold');
    expect(canaryVerdict({ ...policy, thresholds: { ...policy.thresholds, maxFailedCallPercent: 10 } }, evidenceObservation(evidence, 'blue', 0, 61_000, 2), 61_000).outcome).toBe('pass');
  });

  it('carries failed health checks in a row across watches, and starts over after a good one', () => {
    const twoFailures = addObservation(NO_EVIDENCE, watched(0, 0, { checks: 2, failures: 2, consecutiveFailures: 2 }));
    const oneMore = addObservation(twoFailures, watched(0, 0, { checks: 1, failures: 1, consecutiveFailures: 1 }));
    expect(oneMore.health).toEqual([{ url: 'http://blue/health', checks: 3, failures: 3, consecutiveFailures: 3, lastProblem: 'GET http://blue/health failed' }]);
    expect(canaryVerdict(policy, evidenceObservation(oneMore, 'blue', 0, 1_000, 2), 1_000)).toMatchObject({ outcome: 'fail' });
    const recovered = addObservation(twoFailures, watched(0, 0, { checks: 2, failures: 1, consecutiveFailures: 1 }));
    expect(recovered.health[0]).toMatchObject({ checks: 4, failures: 3, consecutiveFailures: 1 });
  });
});

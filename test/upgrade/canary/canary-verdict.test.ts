import { canaryVerdict, parseCanaryPolicy, type CanaryObservation, type CanaryPolicyInput, type GroupCallCounts } from '../../../runtime/upgrade/canary';
import { NO_CALLS } from '../../../runtime/upgrade/canary/canary-observation';

const policy = (input: Partial<CanaryPolicyInput> = {}) => parseCanaryPolicy({ steps: [5, 25], hold: { seconds: 120 }, ...input });

function observed(blue: Partial<GroupCallCounts>, extra: Partial<CanaryObservation> = {}): CanaryObservation {
  return {
    groupId: 'blue',
    startedAt: 0,
    observedAt: 0,
    shortCallSeconds: 2,
    groups: { blue: { ...NO_CALLS, ...blue }, green: { ...NO_CALLS, calls: 500, failedCalls: 400, failureCauses: { NORMAL_TEMPORARY_FAILURE: 400 } } },
    health: [],
    unobserved: [],
    ...extra,
  };
}

const SECOND = 1_000;

describe('canaryVerdict', () => {
  it('holds until the hold time has elapsed, then passes, judging only the canary group', () => {
    expect(canaryVerdict(policy(), observed({ calls: 40 }), 119 * SECOND)).toEqual({ outcome: 'hold', reasons: ['held 119 s of 120 s'] });
    expect(canaryVerdict(policy(), observed({ calls: 40, failedCalls: 2, shortCalls: 4 }), 120 * SECOND)).toEqual({
      outcome: 'pass',
      reasons: ['40 calls of blue: 2 failed (5 %), 4 short (10 %), 0 failed connection(s) in 120 s'],
    });
  });

  it('holds by calls until the count is reached, and by time AND calls until both are (whichever comes last)', () => {
    const byCalls = policy({ hold: { calls: 200 } });
    expect(canaryVerdict(byCalls, observed({ calls: 199 }), 10 * SECOND)).toEqual({ outcome: 'hold', reasons: ['199 of 200 calls of blue seen'] });
    expect(canaryVerdict(byCalls, observed({ calls: 200 }), 10 * SECOND).outcome).toBe('pass');

    const both = policy({ hold: { seconds: 60, calls: 30 } });
    expect(canaryVerdict(both, observed({ calls: 30 }), 59 * SECOND)).toEqual({ outcome: 'hold', reasons: ['held 59 s of 60 s'] });
    expect(canaryVerdict(both, observed({ calls: 29 }), 60 * SECOND)).toEqual({ outcome: 'hold', reasons: ['29 of 30 calls of blue seen'] });
    expect(canaryVerdict(both, observed({ calls: 30 }), 60 * SECOND).outcome).toBe('pass');
  });

  it('does not pass on fewer than minCalls calls, and fails when maxHoldSeconds comes first', () => {
    const quiet = observed({ calls: 19 });
    expect(canaryVerdict(policy(), quiet, 600 * SECOND)).toEqual({ outcome: 'hold', reasons: ['19 of 20 calls of blue seen'] });
    expect(canaryVerdict(policy(), quiet, 1_800 * SECOND)).toEqual({ outcome: 'fail', reasons: ['still holding after the 1800 s limit: 19 of 20 calls of blue seen'] });
    expect(canaryVerdict(policy({ maxHoldSeconds: 300 }), quiet, 300 * SECOND).outcome).toBe('fail');
  });

  it('fails on more failed calls than maxFailedCallPercent, at once once minCalls were judged, naming the causes', () => {
    const failing = observed({ calls: 20, failedCalls: 2, failureCauses: { NORMAL_TEMPORARY_FAILURE: 1, DESTINATION_OUT_OF_ORDER: 1 } });
    expect(canaryVerdict(policy(), failing, 5 * SECOND)).toEqual({
      outcome: 'fail',
      reasons: ['2 of 20 calls of blue failed (10 %, limit 5 %): NORMAL_TEMPORARY_FAILURE ×1, DESTINATION_OUT_OF_ORDER ×1'],
    });
    expect(canaryVerdict(policy({ thresholds: { maxFailedCallPercent: 10 } }), failing, 120 * SECOND).outcome).toBe('pass');
    // Below minCalls a percentage says little: 2 of 3 failed holds.
    expect(canaryVerdict(policy(), observed({ calls: 3, failedCalls: 2 }), 5 * SECOND).outcome).toBe('hold');
  });

  it('fails on more short calls than maxShortCallPercent', () => {
    expect(canaryVerdict(policy(), observed({ calls: 50, shortCalls: 11 }), 5 * SECOND)).toEqual({
      outcome: 'fail',
      reasons: ['11 of 50 calls of blue lasted under 2 s (22 %, limit 20 %)'],
    });
    expect(canaryVerdict(policy({ thresholds: { shortCallSeconds: 1.5 } }), observed({ calls: 50, shortCalls: 11 }), 5 * SECOND).reasons).toEqual([
      '11 of 50 calls of blue lasted under 1.5 s (22 %, limit 20 %)',
    ]);
    expect(canaryVerdict(policy(), observed({ calls: 50, shortCalls: 10 }), 120 * SECOND).outcome).toBe('pass');
  });

  it('fails on more failed connections than maxFailedConnections, before any call is judged', () => {
    expect(canaryVerdict(policy(), observed({ refusedConnections: 1 }), SECOND)).toEqual({
      outcome: 'fail',
      reasons: ['1 failed call-control connection(s) to blue (1 refused, 0 live call(s) left), more than the 0 allowed'],
    });
    const tolerant = policy({ thresholds: { maxFailedConnections: 2 } });
    expect(canaryVerdict(tolerant, observed({ calls: 20, refusedConnections: 1, leftCalls: 1 }), 120 * SECOND).outcome).toBe('pass');
    expect(canaryVerdict(tolerant, observed({ calls: 20, refusedConnections: 1, leftCalls: 2 }), 120 * SECOND).reasons).toEqual([
      '3 failed call-control connection(s) to blue (1 refused, 2 live call(s) left), more than the 2 allowed',
    ]);
  });

  it('fails a member that failed maxConsecutiveHealthFailures health checks in a row, not one that recovered', () => {
    const health = (consecutiveFailures: number) => [{ url: 'http://10.0.0.1:8080/health', checks: 9, failures: 4, consecutiveFailures, lastProblem: 'GET http://10.0.0.1:8080/health failed: ECONNREFUSED' }];
    expect(canaryVerdict(policy(), observed({}, { health: health(3) }), SECOND)).toEqual({
      outcome: 'fail',
      reasons: ['http://10.0.0.1:8080/health failed 3 health check(s) in a row (limit 3): GET http://10.0.0.1:8080/health failed: ECONNREFUSED'],
    });
    expect(canaryVerdict(policy(), observed({ calls: 20 }, { health: health(2) }), 120 * SECOND).outcome).toBe('pass');
  });

  it('gives every crossed threshold at once', () => {
    expect(canaryVerdict(policy(), observed({ calls: 20, failedCalls: 20, shortCalls: 20, failureCauses: { SWITCH_CONGESTION: 20 }, leftCalls: 1 }), SECOND).reasons).toHaveLength(3);
  });

  it('does not pass while a media server is unobserved, and says so when the hold limit is reached', () => {
    const blind = observed({ calls: 40 }, { unobserved: ['west/ms-2'] });
    expect(canaryVerdict(policy(), blind, 120 * SECOND)).toEqual({ outcome: 'hold', reasons: ['no events from west/ms-2'] });
    expect(canaryVerdict(policy(), blind, 1_800 * SECOND)).toEqual({ outcome: 'fail', reasons: ['still holding after the 1800 s limit: no events from west/ms-2'] });
  });

  it('judges a group that took no call at all as holding', () => {
    const none: CanaryObservation = { ...observed({}), groups: {} };
    expect(canaryVerdict(policy(), none, 120 * SECOND)).toEqual({ outcome: 'hold', reasons: ['0 of 20 calls of blue seen'] });
  });
});

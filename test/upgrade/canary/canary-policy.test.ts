import { canaryPolicyFromFlags, parseCanaryHold, parseCanaryPolicy, parseCanarySteps } from '../../../runtime/upgrade/canary';
import { UpgradeStepError } from '../../../runtime/upgrade/flow/upgrade-steps';

/** The one-line message of the InvalidInput error `parse` throws. */
function problem(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(UpgradeStepError);
    expect((error as UpgradeStepError).code).toBe('InvalidInput');
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('expected the input to be rejected');
}

describe('canary policy', () => {
  it('fills in the documented defaults', () => {
    expect(parseCanaryPolicy({ steps: [5, 25], hold: { seconds: 120 } })).toEqual({
      steps: [5, 25],
      hold: { seconds: 120 },
      maxHoldSeconds: 1_800,
      thresholds: { maxFailedCallPercent: 5, shortCallSeconds: 2, maxShortCallPercent: 20, maxFailedConnections: 0, minCalls: 20, maxConsecutiveHealthFailures: 3 },
    });
    expect(parseCanaryPolicy({ steps: [10], hold: { seconds: 7_200 } }).maxHoldSeconds).toBe(7_200);
    expect(parseCanaryPolicy({ steps: [10], hold: { calls: 500 }, maxHoldSeconds: 900, thresholds: { minCalls: 0 } })).toEqual(
      expect.objectContaining({ hold: { calls: 500 }, maxHoldSeconds: 900, thresholds: expect.objectContaining({ minCalls: 0 }) }),
    );
  });

  it.each([
    [{ steps: [], hold: { seconds: 60 } }, 'canary: steps: must give at least one share'],
    [{ steps: [25, 5], hold: { seconds: 60 } }, 'canary: steps: must be strictly ascending (e.g. 5, 25)'],
    [{ steps: [5, 5], hold: { seconds: 60 } }, 'canary: steps: must be strictly ascending (e.g. 5, 25)'],
    [{ steps: [0], hold: { seconds: 60 } }, 'canary: steps[0]: must be a share of 1-99 percent'],
    [{ steps: [100], hold: { seconds: 60 } }, 'canary: steps[0]: must be a share of 1-99 percent'],
    [{ steps: [2.5], hold: { seconds: 60 } }, 'canary: steps[0]: must be a whole percent'],
    [{ steps: '5,25', hold: { seconds: 60 } }, 'canary: steps: must be a list of percents'],
    [{ steps: [5], hold: {} }, 'canary: hold: must give seconds, calls or both'],
    [{ steps: [5] }, 'canary: hold: must be an object'],
    [{ steps: [5], hold: { seconds: 0 } }, 'canary: hold.seconds: must be more than 0 seconds'],
    [{ steps: [5], hold: { calls: 1.5 } }, 'canary: hold.calls: must be a whole number of calls'],
    [{ steps: [5], hold: { minutes: 2 } }, 'canary: hold: unknown field(s) "minutes"; hold: must give seconds, calls or both'],
    [{ steps: [5], hold: { seconds: 600 }, maxHoldSeconds: 300 }, 'canary: maxHoldSeconds: must be at least hold.seconds'],
    [{ steps: [5], hold: { seconds: 60 }, thresholds: { maxFailedCallPercent: 101 } }, 'canary: thresholds.maxFailedCallPercent: must be a percent (0-100)'],
    [{ steps: [5], hold: { seconds: 60 }, thresholds: { minCalls: -1 } }, 'canary: thresholds.minCalls: must be 0 or more (calls)'],
    [{ steps: [5], hold: { seconds: 60 }, thresholds: { maxConsecutiveHealthFailures: 0 } }, 'canary: thresholds.maxConsecutiveHealthFailures: must be at least 1 check'],
    [{ steps: [5], hold: { seconds: 60 }, thresholds: { failedPercent: 5 } }, 'canary: thresholds: unknown field(s) "failedPercent"'],
    ['5,25', 'canary: must be an object'],
  ])('rejects %j in one line naming the field', (input, message) => {
    expect(problem(() => parseCanaryPolicy(input))).toBe(message);
  });
});

describe('canary CLI flags', () => {
  it('reads --canary and --canary-hold into a policy with the default thresholds', () => {
    expect(canaryPolicyFromFlags({ canary: '5,25', canaryHold: '120s' })).toEqual(parseCanaryPolicy({ steps: [5, 25], hold: { seconds: 120 } }));
    expect(canaryPolicyFromFlags({ canary: '10' })?.hold).toEqual({ seconds: 120 });
    expect(canaryPolicyFromFlags({})).toBeUndefined();
  });

  it.each([
    ['120s', { seconds: 120 }],
    ['30m', { seconds: 1_800 }],
    ['1.5h', { seconds: 5_400 }],
    ['200calls', { calls: 200 }],
    ['2m,150calls', { seconds: 120, calls: 150 }],
  ])('reads --canary-hold %s', (text, hold) => {
    expect(parseCanaryHold(text)).toEqual(hold);
  });

  it.each([
    [() => parseCanarySteps('5,x'), '--canary: "x" is not a whole percent (expected shares like 5,25)'],
    [() => parseCanarySteps('5,,25'), '--canary: "" is not a whole percent (expected shares like 5,25)'],
    [() => parseCanarySteps('25,5'), '--canary: must be strictly ascending (e.g. 5, 25)'],
    [() => parseCanarySteps('5,100'), '--canary: must be a share of 1-99 percent'],
    [() => parseCanaryHold('2 minutes'), '--canary-hold: "2 minutes" is not a duration or a call count (expected e.g. 120s, 30m, 1h or 200calls)'],
    [() => parseCanaryHold('0s'), '--canary-hold: "0s": must be more than 0 seconds'],
    [() => parseCanaryHold('2.5calls'), '--canary-hold: "2.5calls": must be a whole number of calls'],
    [() => parseCanaryHold('1m,2m'), '--canary-hold: gives a duration twice'],
    [() => parseCanaryHold('25h'), '--canary-hold: "25h": must be at most 86400 seconds'],
    [() => canaryPolicyFromFlags({ canaryHold: '120s' }), '--canary-hold: needs --canary'],
  ])('rejects a bad flag in one line naming it (%#)', (parse, message) => {
    expect(problem(parse)).toBe(message);
  });
});

import { backoffDelayMs } from '../../runtime/esl/backoff';

describe('reconnect backoff', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2 };

  it('grows exponentially up to the cap', () => {
    const ceilings = [0, 1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, policy, () => 0.999999));
    expect(ceilings).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('jitters within the upper half of the ceiling', () => {
    expect(backoffDelayMs(2, policy, () => 0)).toBe(200);
    expect(backoffDelayMs(2, policy, () => 0.5)).toBe(300);
    expect(backoffDelayMs(10, policy, () => 0)).toBe(500);
  });

  it('has sensible defaults (500 ms first, 30 s cap)', () => {
    expect(backoffDelayMs(0, {}, () => 0.999999)).toBe(500);
    expect(backoffDelayMs(20, {}, () => 0.999999)).toBe(30_000);
  });
});

import { Pacing } from '../../runtime/cds/clock/pacing';
import { ManualClock } from '../support/cds/test-clocks';

// Background writes (delivery cursors, compaction) wait on the node's clock between two writes; a stop must end
// every wait under way, however many components (or overlapping saves) are waiting.

/** The order in which the waits resolved, once the microtasks of a clock step have run. */
function recorder(): { readonly resolved: string[]; track: (name: string, wait: Promise<void>) => void } {
  const resolved: string[] = [];
  return { resolved, track: (name, wait) => void wait.then(() => resolved.push(name)) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('pacing of background writes', () => {
  it('ends each of overlapping waits at its own time', async () => {
    const clock = new ManualClock();
    const pacing = new Pacing(clock);
    const { resolved, track } = recorder();
    const start = clock.monotonicMs();
    track('late', pacing.until(start + 300));
    track('early', pacing.until(start + 100));
    track('due', pacing.until(start));
    await settle();
    expect(resolved).toEqual(['due']);
    clock.advance(100);
    await settle();
    expect(resolved).toEqual(['due', 'early']);
    clock.advance(200);
    await settle();
    expect(resolved).toEqual(['due', 'early', 'late']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('ends every wait at once when hurried, and waits no more after it', async () => {
    const clock = new ManualClock();
    const pacing = new Pacing(clock);
    const { resolved, track } = recorder();
    const start = clock.monotonicMs();
    track('first', pacing.until(start + 1_000));
    track('second', pacing.until(start + 2_000));
    pacing.hurry();
    track('after', pacing.until(start + 3_000));
    await settle();
    expect(resolved).toEqual(['first', 'second', 'after']);
    expect(clock.pendingTimers).toBe(0);
  });
});

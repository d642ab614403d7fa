import { hlcAtMs, hlcToMs, isHlcTimestamp, nextHlc, observeHlc } from '../../runtime/cds/clock/hlc';

describe('hybrid logical clock timestamps', () => {
  it('follow the physical clock when it moves forward', () => {
    expect(nextHlc(hlcAtMs(1000), 1005)).toBe(hlcAtMs(1005));
    expect(hlcToMs(nextHlc(hlcAtMs(1000), 1005))).toBe(1005);
  });

  it('count within a millisecond and when the physical clock goes back', () => {
    const first = nextHlc(0, 2000);
    const second = nextHlc(first, 2000);
    const afterSetBack = nextHlc(second, 1000);
    expect([first < second, second < afterSetBack]).toEqual([true, true]);
    expect(hlcToMs(afterSetBack)).toBe(2000);
  });

  it('never fall behind an observed timestamp', () => {
    const seen = hlcAtMs(5000) + 7;
    const last = observeHlc(hlcAtMs(1000), seen);
    expect(nextHlc(last, 1000)).toBe(seen + 1);
    expect(observeHlc(seen, hlcAtMs(10))).toBe(seen);
  });

  it('stay safe integers for current dates', () => {
    expect(isHlcTimestamp(nextHlc(0, Date.now()))).toBe(true);
    expect(isHlcTimestamp(-1)).toBe(false);
    expect(isHlcTimestamp(1.5)).toBe(false);
  });
});

/**
 * Hybrid logical clock timestamps as one safe integer: physical milliseconds * 1000 + a counter. A burst of
 * more than 1000 stamps in one millisecond borrows from the next millisecond, which keeps the encoding a
 * single comparable number (safe until the year 2255) at the cost of running ahead by at most that burst.
 */
export type HlcTimestamp = number;

const TICKS_PER_MS = 1000;

export function hlcAtMs(physicalMs: number): HlcTimestamp {
  return Math.floor(physicalMs) * TICKS_PER_MS;
}

export function hlcToMs(timestamp: HlcTimestamp): number {
  return Math.floor(timestamp / TICKS_PER_MS);
}

/** The stamp after `last`: the physical time if it moved past `last`, otherwise `last` + 1 tick. */
export function nextHlc(last: HlcTimestamp, physicalMs: number): HlcTimestamp {
  return Math.max(last + 1, hlcAtMs(physicalMs));
}

/** The clock state after seeing `remote`: never behind what was observed. */
export function observeHlc(last: HlcTimestamp, remote: HlcTimestamp): HlcTimestamp {
  return Math.max(last, remote);
}

export function isHlcTimestamp(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

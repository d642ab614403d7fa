/** Pure arithmetic of the upgrade benchmark's report. */

/**
 * How long `durations` take on `concurrency` workers taking them in order (what the orchestrator's pool
 * does): the wall time the fleet would need if orchestration cost nothing.
 */
export function scheduledWallMs(durations: readonly number[], concurrency: number): number {
  const workers = new Array<number>(Math.min(concurrency, durations.length)).fill(0);
  for (const duration of durations) {
    const next = workers.indexOf(Math.min(...workers));
    workers[next] += duration;
  }
  return Math.max(0, ...workers);
}

/** From the drain write until the last call that was on the group then ended (0 when none was). */
export function naturalDrainMs(calls: readonly { startMs: number; endMs: number }[], drainWrittenAt: number): number {
  const ends = calls.filter((call) => call.startMs <= drainWrittenAt).map((call) => call.endMs - drainWrittenAt);
  return Math.max(0, ...ends);
}

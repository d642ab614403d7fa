import { tallyCalls } from '../../runtime/upgrade/progress/call-tally';
import type { AuditEntry } from '../../runtime/upgrade/state/upgrade-records';
import type { CallOutcome } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { CALL_CONTEXT } from '../support/media-server-fixture';
import { useFleetAndTable } from '../support/upgrade/fleet-and-table';
import { groupHealth, upgradeFleet } from '../support/upgrade/upgrade-harness';
import { waitFor } from '../support/wait-for';

const startedAtMs = (outcome: CallOutcome) => Number(outcome.variables.start_uepoch) / 1000;

/** Windows in which a group must not receive a new call: from its verified drain write to the start of its restore write. */
function closedWindows(audit: readonly AuditEntry[]): Map<string, { from: number; to: number }> {
  const windows = new Map<string, { from: number; to: number }>();
  for (const entry of audit) {
    if (entry.event.type !== 'route-change') continue;
    if (entry.event.action === 'drain') windows.set(entry.groupId, { from: entry.at, to: Infinity });
    else windows.set(entry.groupId, { from: windows.get(entry.groupId)?.from ?? -Infinity, to: entry.event.startedAt });
  }
  return windows;
}

describe('blue-green upgrade under load (simulator + call-control processes + dynalite)', () => {
  const shared = useFleetAndTable();

  it('upgrades both groups with 200 concurrent calls at 20 calls/s: nothing dropped or refused, no call on a draining group', async () => {
    const load = shared.fleet.simulator.placeCalls({
      count: 2_000,
      ratePerSecond: 20,
      destination: '15550100000',
      context: CALL_CONTEXT,
      durationMs: () => 8_000 + Math.floor(Math.random() * 4_000),
    });
    await waitFor(() => shared.fleet.simulator.stats().activeCalls >= 190, { timeoutMs: 20_000, message: '~200 concurrent calls' });

    const { summary, progress, store } = await upgradeFleet(shared.fleet, shared.table, { upgradeId: 'under-load', pollMs: 250 });
    load.cancel();
    const outcomes = await load.outcomes();

    expect(summary.status).toBe('succeeded');
    expect(summary.mediaServers[0].groups.map((group) => [group.groupId, group.phase, group.forcedCalls])).toEqual([
      ['blue', 'restored', 0],
      ['green', 'restored', 0],
    ]);
    expect(await groupHealth(shared.fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.1.0', acceptingCalls: true })]);
    expect(await groupHealth(shared.fleet, 'green')).toEqual([expect.objectContaining({ version: '1.1.0', acceptingCalls: true })]);
    expect((await shared.fleet.routes())?.groups.map((group) => group.state)).toEqual(['active', 'active']);

    expect(tallyCalls(outcomes)).toEqual({ placed: outcomes.length, completed: outcomes.length, dropped: 0, refused: 0 });
    expect(shared.fleet.simulator.stats().callsRejected).toBe(0);
    // Exactly one group: tagged once, never re-homed to another.
    expect(outcomes.filter((outcome) => !['blue', 'green'].includes(outcome.variables.vp_cc_group) || (outcome.variables.vp_cc_rehomes ?? '') !== '')).toEqual([]);

    const windows = closedWindows(await store.audit('under-load'));
    expect([...windows.keys()].sort()).toEqual(['blue', 'green']);
    const intoDrainedGroup = outcomes.filter((outcome) => {
      const window = windows.get(outcome.variables.vp_cc_group);
      return window !== undefined && startedAtMs(outcome) > window.from && startedAtMs(outcome) < window.to;
    });
    expect(intoDrainedGroup).toEqual([]);
    // Each group's drain waited for calls that were really there, and the load went on meanwhile.
    const drainCounts = progress.filter((event) => event.step === 'checkDrain').map((event) => event.remainingCalls ?? 0);
    expect(Math.max(...drainCounts)).toBeGreaterThan(50);
    const duringDrains = outcomes.filter((outcome) => [...windows.values()].some((window) => startedAtMs(outcome) > window.from && startedAtMs(outcome) < window.to));
    expect(duringDrains.length).toBeGreaterThan(100);
  });
});

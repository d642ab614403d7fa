import { CALL_CONTEXT } from '../support/media-server-fixture';
import { useFleetAndTable } from '../support/upgrade/fleet-and-table';
import { FAST_STEPS, upgradeFleet } from '../support/upgrade/upgrade-harness';
import { waitFor } from '../support/wait-for';

/** Three times the longest call: a drain that ends before one poll has passed was woken by the hangups (or the settle's end). */
const POLL_MS = 6_000;

describe('drain wait woken by the end of the group calls (simulator + call-control processes + dynalite)', () => {
  const shared = useFleetAndTable();

  it('checks the drain again as soon as a call of the group hangs up, not at the next poll', async () => {
    const calls = [1_000, 1_500, 2_000].map((durationMs) => shared.fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs }));
    await waitFor(() => calls.every((call) => shared.fleet.simulator.channels().some((channel) => channel.uuid === call.uuid && channel.variables.vp_cc_group === 'blue')), {
      message: 'the calls to be on blue',
    });

    const run = await upgradeFleet(shared.fleet, shared.table, { upgradeId: 'woken-drain', request: { groups: ['blue'] }, pollMs: POLL_MS, wakeOnCallEnd: true });

    expect(run.summary.status).toBe('succeeded');
    expect(run.summary.mediaServers[0].groups[0]).toMatchObject({ phase: 'restored' });
    const checks = run.progress.filter((event) => event.step === 'checkDrain');
    expect(checks[0].remainingCalls).toBeGreaterThan(0);
    const drained = checks[checks.length - 1];
    expect(drained.remainingCalls).toBe(0);
    expect(drained.elapsedMs).toBeLessThan(POLL_MS);
    // One check after each hangup, none waiting for the poll.
    expect(checks.length).toBeGreaterThanOrEqual(3);
  });

  it('finds a group without calls drained when the settle after the drain write has passed, not a poll later', async () => {
    const run = await upgradeFleet(shared.fleet, shared.table, { upgradeId: 'settled-drain', request: { groups: ['green'] }, pollMs: POLL_MS, wakeOnCallEnd: true });

    expect(run.summary.status).toBe('succeeded');
    const checks = run.progress.filter((event) => event.step === 'checkDrain');
    // Checked at once after the write (no call, settle still running), then once more as the settle ends.
    expect(checks.map((check) => check.remainingCalls)).toEqual([0, 0]);
    expect(run.summary.mediaServers[0].groups[0].drainSeconds).toBeGreaterThanOrEqual(FAST_STEPS.drainSettleMs! / 1000);
    expect(checks[1].elapsedMs).toBeLessThan(POLL_MS);
  });
});

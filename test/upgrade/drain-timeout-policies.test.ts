import { tallyCalls } from '../../runtime/upgrade/progress/call-tally';
import type { CallHandle } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { CALL_CONTEXT } from '../support/media-server-fixture';
import { useFleetAndTable } from '../support/upgrade/fleet-and-table';
import { VirtualTime } from '../support/upgrade/virtual-time';
import { groupHealth, upgradeFleet } from '../support/upgrade/upgrade-harness';
import { waitFor } from '../support/wait-for';

/**
 * maxDrainSeconds = 300 (five minutes) passes in about a third of a second: the orchestrator and the steps
 * run on virtual time (1 000x), the simulator's calls on real time.
 */
const FIVE_MINUTES = 300;
const POLL_MS = 5_000;

describe('drain timeout policies (5-minute limit in virtual time)', () => {
  const shared = useFleetAndTable();

  /** Calls that the dialplan hands to blue (first in the route table), answered before the upgrade starts. */
  async function callsOnBlue(count: number, durationMs: number): Promise<CallHandle[]> {
    const calls = Array.from({ length: count }, () => shared.fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs }));
    await waitFor(
      () => calls.every((call) => shared.fleet.simulator.channels().some((channel) => channel.uuid === call.uuid && channel.answered && channel.variables.vp_cc_group === 'blue')),
      {
        message: 'calls answered on blue',
      },
    );
    return calls;
  }

  const version = async (groupId: string) => ((await groupHealth(shared.fleet, groupId))[0] as { version: string }).version;

  it('wait: reports the timeout, keeps waiting for the calls to end, then upgrades', async () => {
    const calls = await callsOnBlue(3, 1_500);
    const time = new VirtualTime(1_000);
    const run = await upgradeFleet(shared.fleet, shared.table, {
      upgradeId: 'policy-wait',
      request: { groups: ['blue'], version: '1.1.0', maxDrainSeconds: FIVE_MINUTES, onDrainTimeout: 'wait' },
      clock: time,
      sleep: time.sleep,
      pollMs: POLL_MS,
    });

    expect(run.summary.status).toBe('succeeded');
    expect(run.summary.mediaServers[0].groups[0]).toMatchObject({ phase: 'restored', forcedCalls: 0 });
    expect(run.summary.maxDrainSeconds).toBeGreaterThan(FIVE_MINUTES);
    expect(run.progress.some((event) => event.step === 'checkDrain' && event.timedOut === true && event.remainingCalls === 3)).toBe(true);
    const samples = (await run.store.audit('policy-wait')).flatMap((entry) => (entry.event.type === 'drain-count' ? [entry.event] : []));
    expect(samples[0]).toMatchObject({ remaining: 3, timedOut: false });
    expect(samples.some((sample) => sample.timedOut && sample.remaining === 3)).toBe(true);
    expect(samples[samples.length - 1]).toMatchObject({ remaining: 0, timedOut: false });
    expect(tallyCalls(await Promise.all(calls.map((call) => call.outcome)))).toMatchObject({ completed: 3, dropped: 0 });
    expect(await version('blue')).toBe('1.1.0');
  });

  it('force: hangs up the calls left after the limit with a logged cause, then upgrades; other groups untouched', async () => {
    const calls = await callsOnBlue(3, 600_000);
    const time = new VirtualTime(1_000);
    const onGreen: CallHandle[] = [];
    const run = await upgradeFleet(shared.fleet, shared.table, {
      upgradeId: 'policy-force',
      request: { groups: ['blue'], version: '1.2.0', maxDrainSeconds: FIVE_MINUTES, onDrainTimeout: 'force' },
      clock: time,
      sleep: time.sleep,
      pollMs: POLL_MS,
      onProgress: (event) => {
        if (event.step === 'checkDrain' && onGreen.length === 0) onGreen.push(shared.fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: 2_000 }));
      },
    });

    expect(run.summary.status).toBe('succeeded');
    expect(run.summary.mediaServers[0].groups[0]).toMatchObject({ phase: 'restored', forcedCalls: 3 });
    const outcomes = await Promise.all(calls.map((call) => call.outcome));
    expect(outcomes.map((outcome) => outcome.hangupCause)).toEqual(['MANAGER_REQUEST', 'MANAGER_REQUEST', 'MANAGER_REQUEST']);
    const forced = (await run.store.audit('policy-force')).flatMap((entry) => (entry.event.type === 'force-end' ? [entry.event] : []));
    expect(forced.map((event) => event.uuid).sort()).toEqual(calls.map((call) => call.uuid).sort());
    expect(forced.every((event) => event.cause === 'MANAGER_REQUEST')).toBe(true);
    const green = await onGreen[0].outcome;
    expect([green.variables.vp_cc_group, green.answered, green.hangupCause]).toEqual(['green', true, 'NORMAL_CLEARING']);
    expect(await version('blue')).toBe('1.2.0');
  });

  it('abort: restores the group unchanged and fails the upgrade; the calls carry on', async () => {
    const calls = await callsOnBlue(2, 2_000);
    const before = await version('blue');
    const time = new VirtualTime(1_000);
    const run = await upgradeFleet(shared.fleet, shared.table, {
      upgradeId: 'policy-abort',
      request: { groups: ['blue', 'green'], version: '9.9.9', maxDrainSeconds: FIVE_MINUTES, onDrainTimeout: 'abort' },
      clock: time,
      sleep: time.sleep,
      pollMs: POLL_MS,
    });

    expect(run.summary.status).toBe('failed');
    expect(run.summary.mediaServers[0].groups).toEqual([
      expect.objectContaining({ groupId: 'blue', phase: 'failed', error: expect.objectContaining({ code: 'DrainAborted' }) }),
      expect.objectContaining({ groupId: 'green', phase: 'pending' }),
    ]);
    expect((await shared.fleet.routes())?.groups.map((group) => [group.id, group.state])).toEqual([
      ['blue', 'active'],
      ['green', 'active'],
    ]);
    const routeChanges = (await run.store.audit('policy-abort')).flatMap((entry) => (entry.event.type === 'route-change' ? [entry.event.action] : []));
    expect(routeChanges).toEqual(['drain', 'restore']);
    expect(tallyCalls(await Promise.all(calls.map((call) => call.outcome)))).toMatchObject({ completed: 2, dropped: 0 });
    expect(await version('blue')).toBe(before);
    expect(await version('green')).toBe('1.0.0');
  });
});

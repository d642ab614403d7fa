import { writeFileSync } from 'fs';
import * as path from 'path';
import { decodeRouteTable } from '../../runtime/dialplan';
import { runUpgradeCommand, type UpgradeOptionValues } from '../../runtime/commands/upgrade-command';
import { createFleetUpgradeSteps } from '../../runtime/upgrade/steps/fleet-upgrade-steps';
import { faultyReleaseCommand } from '../../runtime/upgrade/deployers/faulty-release-command';
import { tallyCalls } from '../../runtime/upgrade/progress/call-tally';
import { ProgressLog } from '../../runtime/upgrade/progress/progress-view';
import { describeAuditEvent, renderUpgradeReport } from '../../runtime/upgrade/report/upgrade-report';
import type { CanaryPolicyInput } from '../../runtime/upgrade/canary';
import type { AuditEntry } from '../../runtime/upgrade/state/upgrade-records';
import type { CallOutcome } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { systemClock } from '../../runtime/shared/clock';
import { CALL_CONTEXT } from '../support/media-server-fixture';
import { IMAGE, MEDIA_SERVER_ID, startLocalFleet, type LocalFleet } from '../support/upgrade/local-fleet-fixture';
import { startStateTable, type StateTable } from '../support/upgrade/state-table-fixture';
import { groupHealth, upgradeFleet } from '../support/upgrade/upgrade-harness';
import { VirtualTime } from '../support/upgrade/virtual-time';
import { waitFor } from '../support/wait-for';

/**
 * Canary upgrades through the local runner (what `voiceplane upgrade --canary` runs) on the simulator, real
 * call-control processes (a bad release runs the reference service with its fault injection on) and dynalite.
 * The steps and the runner run on virtual time (100x): a 120-second hold passes in 1.2 s, while the calls the
 * canary is judged by keep real durations.
 */

const SPEEDUP = 100;
const POLL_MS = 5_000;
const BAD_VERSION = '1.1.0-bad';
/** Every release runs the reference service; the bad one hangs up every call it takes with NORMAL_TEMPORARY_FAILURE. */
const BAD_RELEASE = faultyReleaseCommand({ version: BAD_VERSION, faults: { percent: 100, mode: 'hangup' } });
/** 5 %, then 25 %, each held 120 s (virtual) and judged on at least 4 calls. */
const CANARY: CanaryPolicyInput = { steps: [5, 25], hold: { seconds: 120 }, maxHoldSeconds: 3_600, thresholds: { minCalls: 4 } };

const startedAtMs = (outcome: CallOutcome) => Number(outcome.variables.start_uepoch) / 1000;

/** Virtual time, and the wall-clock time of one of its instants (the audit is stamped in virtual time, the calls in real time). */
function virtualTime(): { time: VirtualTime; wallClock: (virtualMs: number) => number } {
  const origin = Date.now();
  return { time: new VirtualTime(SPEEDUP), wallClock: (virtualMs) => origin + (virtualMs - origin) / SPEEDUP };
}
const canaryEvents = (audit: readonly AuditEntry[]) => audit.flatMap((entry) => (entry.event.type === 'canary' ? [{ at: entry.at, groupId: entry.groupId, ...entry.event }] : []));
/** A group's route writes as `action: its state and share in the verified table`. */
const routeChanges = (audit: readonly AuditEntry[], groupId: string) =>
  audit.flatMap((entry) => {
    if (entry.groupId !== groupId || entry.event.type !== 'route-change') return [];
    const route = decodeRouteTable(entry.event.table).groups.find((group) => group.id === groupId);
    return [`${entry.event.action}: ${route?.state}${route?.share === undefined ? '' : ` ${route.share} %`}`];
  });

describe('canary upgrades (simulator + call-control processes + dynalite, 100x virtual time)', () => {
  let fleet: LocalFleet;
  let table: StateTable;

  beforeAll(async () => {
    table = await startStateTable();
  });
  afterAll(() => table.close());
  beforeEach(async () => {
    fleet = await startLocalFleet({ command: BAD_RELEASE });
  });
  afterEach(() => fleet.stop());

  /** 20 calls/s lasting 2.5-4 s (longer than the canary's 2-second short-call threshold), until cancelled. */
  const steadyLoad = () =>
    fleet.simulator.placeCalls({ count: 10_000, ratePerSecond: 20, destination: '15550100000', context: CALL_CONTEXT, durationMs: () => 2_500 + Math.floor(Math.random() * 1_500) });

  it('passes a good version 5 % -> 25 % -> full reference: audited step by step, reported, no call dropped', async () => {
    const load = steadyLoad();
    await waitFor(() => fleet.simulator.stats().activeCalls >= 40, { timeoutMs: 20_000, message: 'a steady load' });
    const { time, wallClock } = virtualTime();
    const run = await upgradeFleet(fleet, table, {
      upgradeId: 'canary-pass',
      command: BAD_RELEASE,
      request: { groups: ['blue'], version: '1.1.0', canary: CANARY },
      clock: time,
      sleep: time.sleep,
      pollMs: POLL_MS,
    });
    load.cancel();
    const outcomes = await load.outcomes();

    expect(run.summary.status).toBe('succeeded');
    expect(run.summary.mediaServers[0].groups.map((group) => [group.groupId, group.phase])).toEqual([['blue', 'restored']]);
    expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.1.0' })]);
    // The full reference: both active, no share left.
    expect((await fleet.routes())?.groups.map((group) => ({ id: group.id, state: group.state, share: group.share }))).toEqual([
      { id: 'blue', state: 'active', share: undefined },
      { id: 'green', state: 'active', share: undefined },
    ]);

    const audit = await run.store.audit('canary-pass');
    const blue = canaryEvents(audit.filter((entry) => entry.groupId === 'blue'));
    expect(blue.map((event) => `${event.verdict} ${event.share}`)).toEqual(['start 5', 'pass 5', 'start 25', 'pass 25']);
    expect(blue.filter((event) => event.verdict === 'pass').every((event) => event.heldSeconds >= 120 && event.calls >= 4)).toBe(true);
    expect(routeChanges(audit, 'blue')).toEqual(['drain: drained', 'share: active 5 %', 'share: active 25 %', 'restore: active']);

    // The 5 % step really took a small share: of the calls placed while it held, blue had few, and at least the ones it was judged on.
    const fivePercent = { from: wallClock(blue[0].at), to: wallClock(blue[1].at) };
    const placedMeanwhile = outcomes.filter((outcome) => startedAtMs(outcome) > fivePercent.from && startedAtMs(outcome) < fivePercent.to);
    const onBlue = placedMeanwhile.filter((outcome) => outcome.variables.vp_cc_group === 'blue');
    expect(onBlue.length).toBeGreaterThanOrEqual(4);
    expect(onBlue.length / placedMeanwhile.length).toBeLessThan(0.2);

    expect(tallyCalls(outcomes)).toEqual({ placed: outcomes.length, completed: outcomes.length, dropped: 0, refused: 0 });

    // The report and the progress lines say each step's share, hold and verdict.
    const report = renderUpgradeReport({ upgrade: (await run.store.getUpgrade('canary-pass'))!, groups: await run.store.listGroups('canary-pass'), audit });
    expect(report).toMatch(/canary step 1 at 5 % of new calls passed after \d+(\.\d)? s and \d+ call\(s\): \d+ calls of blue: 0 failed/);
    expect(report).toContain('canary step 2 at 25 % of new calls begins');
    const log = new ProgressLog();
    const lines = run.progress.map((event) => log.line(event)).filter((line): line is string => line !== undefined);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/local\/ms-1 blue  canary step 1 at 5 % of new calls: holding \(held \d+(\.\d)? s of 120 s; \d+ of 4 calls of blue seen\)$/),
        expect.stringMatching(/local\/ms-1 blue  canary step 2 at 25 % of new calls: holding \(canary step 1 \(5 %\) passed after \d+(\.\d)? s and \d+ call\(s\)\)$/),
        expect.stringMatching(/local\/ms-1 blue  canary passed: every step \(canary step 2 \(25 %\) passed: every step passed\)$/),
      ]),
    );
  }, 120_000);

  it('backs a bad version out: share 0, drained, its calls end naturally, rolled back and restored; the run stops; no call dropped', async () => {
    const load = steadyLoad();
    await waitFor(() => fleet.simulator.stats().activeCalls >= 40, { timeoutMs: 20_000, message: 'a steady load' });
    const { time, wallClock } = virtualTime();
    const run = await upgradeFleet(fleet, table, {
      upgradeId: 'canary-fail',
      request: { groups: ['blue', 'green'], version: BAD_VERSION, canary: CANARY },
      command: BAD_RELEASE,
      clock: time,
      sleep: time.sleep,
      pollMs: POLL_MS,
    });
    load.cancel();
    const outcomes = await load.outcomes();

    expect(run.summary.status).toBe('failed');
    const [blue, green] = run.summary.mediaServers[0].groups;
    expect(blue).toMatchObject({ groupId: 'blue', phase: 'rolled-back', error: { code: 'CanaryFailed', message: expect.stringMatching(/^canary step 1 \(5 % of new calls\) failed after .*NORMAL_TEMPORARY_FAILURE/) } });
    // A canary failure means the version is bad: the group after it is not started.
    expect(green).toMatchObject({ groupId: 'green', phase: 'pending' });
    expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.0.0' })]);
    expect(await groupHealth(fleet, 'green')).toEqual([expect.objectContaining({ version: '1.0.0' })]);
    expect((await fleet.routes())?.groups.map((group) => ({ id: group.id, state: group.state, share: group.share }))).toEqual([
      { id: 'blue', state: 'active', share: undefined },
      { id: 'green', state: 'active', share: undefined },
    ]);

    const audit = await run.store.audit('canary-fail');
    expect(canaryEvents(audit).map((event) => `${event.groupId} ${event.verdict} ${event.share}`)).toEqual(['blue start 5', 'blue fail 5', 'blue backed-out 5']);
    expect(routeChanges(audit, 'blue')).toEqual(['drain: drained', 'share: active 5 %', 'share: active 0 %', 'drain: drained', 'restore: active']);
    // The previous version was redeployed only once the failed canary's last call had ended.
    const backedOutAt = canaryEvents(audit).find((event) => event.verdict === 'backed-out')!.at;
    const redeployAt = audit.find((entry) => entry.event.type === 'deploy' && entry.event.version === '1.0.0' && entry.event.status === 'started')!.at;
    expect(redeployAt).toBeGreaterThanOrEqual(backedOutAt);
    expect(audit.find((entry) => entry.event.type === 'rollback')?.event).toMatchObject({ outcome: 'rolled-back', detail: 'back on 1.0.0, the route was restored' });
    // Every other group of the run, on any media server, is refused at its preflight, before anything changes.
    expect((await run.store.getUpgrade('canary-fail'))?.haltedBy).toBe('the canary of group blue of local/ms-1 failed');
    const fresh = createFleetUpgradeSteps({ inventory: fleet.inventory, store: run.store, env: fleet.env, keepConnectionsOpen: false });
    const greenTarget = { upgradeId: 'canary-fail', mediaServerId: MEDIA_SERVER_ID, groupId: 'green', image: IMAGE, version: BAD_VERSION, maxDrainSeconds: 900, onDrainTimeout: 'wait' as const };
    await expect(fresh.steps.preflight(greenTarget)).rejects.toThrow(
      'group green of local/ms-1 not started: upgrade canary-fail was halted (the canary of group blue of local/ms-1 failed)',
    );
    await fresh.close();
    expect(await run.store.getGroup(greenTarget)).toBeUndefined();

    // The bad version failed the calls it took (what it was judged on); every other call completed: none was cut off
    // by the back-out or the rollback, and none was refused.
    // Blue took new calls on the bad version from its 5 % share until the back-out's share of 0 was written (a call starts
    // before it is routed); after the restore it takes them on the good version again.
    const [shareWrite, backOutWrite] = audit.filter((entry) => entry.groupId === 'blue' && entry.event.type === 'route-change').slice(1);
    const badVersionTook = (outcome: CallOutcome) =>
      outcome.variables.vp_cc_group === 'blue' && shareWrite.event.type === 'route-change' && startedAtMs(outcome) > wallClock(shareWrite.event.startedAt) && startedAtMs(outcome) < wallClock(backOutWrite.at);
    const onBadVersion = outcomes.filter(badVersionTook);
    expect(onBadVersion.length).toBeGreaterThanOrEqual(4);
    expect(onBadVersion.every((outcome) => outcome.hangupCause === 'NORMAL_TEMPORARY_FAILURE')).toBe(true);
    const others = outcomes.filter((outcome) => !badVersionTook(outcome));
    expect(tallyCalls(others)).toEqual({ placed: others.length, completed: others.length, dropped: 0, refused: 0 });
    expect(fleet.simulator.stats().callsRejected).toBe(0);
  }, 120_000);

  it('shows the canary steps in upgrade --plan, and rejects bad canary flags naming them, changing nothing', async () => {
    const inventoryFile = path.join(fleet.runDir, 'inventory.json');
    writeFileSync(inventoryFile, JSON.stringify(fleet.inventory));
    const upgrade = async (values: UpgradeOptionValues) => {
      const lines: string[] = [];
      const code = await runUpgradeCommand(
        { inventory: inventoryFile, 'media-server': [MEDIA_SERVER_ID], image: IMAGE, group: ['blue'], version: '1.1.0', 'dynamodb-endpoint': table.endpoint, table: table.tableName, ...values },
        { stdout: { line: (text) => lines.push(text) }, env: process.env, isTty: false, pollMs: 100 },
      );
      return { code, lines };
    };

    const { code, lines } = await upgrade({ plan: true, canary: '5,25', 'canary-hold': '120s,200calls' });
    expect(code).toBe(0);
    expect(lines).toContain(
      'canary: each upgraded group takes 5 %, then 25 % of new calls before its full reference; each step holds 120 s and 200 calls (at least 20 calls, at most 1800 s) ' +
        'and fails on over 5 % failed calls, over 20 % calls under 2 s, over 0 failed connection(s) or 3 failed /health checks in a row; ' +
        'a failed canary goes to share 0, drains, is rolled back to its previous version, and no further group starts',
    );
    const json = await upgrade({ plan: true, json: true, canary: '10' });
    expect(JSON.parse(json.lines[0])).toMatchObject({ type: 'plan', canary: { steps: [10], hold: { seconds: 120 } } });

    const routesBefore = await fleet.routes();
    await expect(upgrade({ 'upgrade-id': 'bad-canary', canary: '25,5' })).rejects.toThrow(/^--canary: must be strictly ascending \(e\.g\. 5, 25\)$/);
    await expect(upgrade({ 'upgrade-id': 'bad-canary', canary: '5', 'canary-hold': '2 minutes' })).rejects.toThrow(/^--canary-hold: "2 minutes" is not a duration or a call count/);
    await expect(upgrade({ 'upgrade-id': 'bad-canary', 'canary-hold': '120s' })).rejects.toThrow(/^--canary-hold: needs --canary$/);
    await expect(upgrade({ 'upgrade-id': 'bad-canary', canary: '5%', 'on-timeout': 'x' })).rejects.toThrow(
      /^--on-timeout: must be wait, force or abort \(got "x"\); --canary: "5%" is not a whole percent/,
    );
    expect(await fleet.routes()).toEqual(routesBefore);
    expect(await table.store(systemClock).getUpgrade('bad-canary')).toBeUndefined();
  });
});

describe('canary audit lines', () => {
  it('say the share, the hold and the verdict with its reasons', () => {
    expect(describeAuditEvent({ type: 'canary', step: 0, share: 5, verdict: 'fail', calls: 12, heldSeconds: 42.5, reasons: ['12 of 12 calls of blue failed'] })).toBe(
      'canary step 1 at 5 % of new calls FAILED after 42.5 s and 12 call(s): 12 of 12 calls of blue failed; share 0, group drained',
    );
  });
});

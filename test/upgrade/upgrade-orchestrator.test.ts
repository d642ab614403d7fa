import { systemClock } from '../../runtime/shared/clock';
import { PAPER_INVENTORY } from '../support/upgrade/paper-inventory';
import { runUpgrade } from '../../runtime/upgrade/flow/upgrade-orchestrator';
import { parseUpgradeRequest } from '../../runtime/upgrade/request/upgrade-request';
import { UpgradeStepError, type GroupUpgradeSteps, type GroupUpgradeTarget } from '../../runtime/upgrade/flow/upgrade-steps';
import { startStateTable, type StateTable } from '../support/upgrade/state-table-fixture';

const inventory = PAPER_INVENTORY;

/** Steps that succeed (a drain that times out when asked), with `overrides` in place; rollbacks are recorded. */
function scriptedSteps(overrides: Partial<GroupUpgradeSteps> = {}, drainTimesOut = false): GroupUpgradeSteps & { rolledBack: GroupUpgradeTarget[]; calls: string[] } {
  const rolledBack: GroupUpgradeTarget[] = [];
  const calls: string[] = [];
  const nothing = async () => undefined;
  const steps: GroupUpgradeSteps = {
    preflight: async () => ({ ready: true }),
    drain: nothing,
    checkDrain: async () => ({ remainingCalls: drainTimesOut ? 1 : 0, elapsedSeconds: 0, drained: !drainTimesOut, timedOut: drainTimesOut }),
    forceEndCalls: async () => 0,
    abortDrain: nothing,
    deploy: nothing,
    checkDeployment: async () => ({ complete: true, failed: false, detail: '' }),
    verify: nothing,
    openCanary: nothing,
    checkCanary: async () => ({ status: 'passed', step: 0, share: 5, calls: 0, detail: '' }),
    restore: nothing,
    rollback: async (target) => {
      rolledBack.push(target);
      return 'rolled-back';
    },
    ...overrides,
  };
  const recorded = Object.fromEntries(
    Object.entries(steps).map(([name, step]) => [name, (...args: unknown[]) => (calls.push(name), (step as (...args: unknown[]) => Promise<unknown>)(...args))]),
  ) as unknown as GroupUpgradeSteps;
  return Object.assign(recorded, { rolledBack, calls });
}

describe('runUpgrade', () => {
  let table: StateTable;
  beforeAll(async () => {
    table = await startStateTable();
  });
  afterAll(() => table.close());

  const upgrade = (upgradeId: string, steps: GroupUpgradeSteps, request: Record<string, unknown> = {}) =>
    runUpgrade({
      request: parseUpgradeRequest({ image: 'repo/cc', version: '2.0.0', groups: ['blue', 'green'], mediaServers: ['west/ms-1'], ...request }),
      inventory,
      upgradeId,
      steps,
      store: table.store(systemClock),
      pollMs: 1,
      retryIntervalMs: 1,
    });

  it('retries a request timeout as a transient error, and gives up after the flow\'s 6 retries', async () => {
    const timeout = () => Object.assign(new Error('request timed out'), { name: 'TimeoutError' });
    let deploys = 0;
    const flaky = scriptedSteps({
      deploy: async () => {
        if (++deploys === 1) throw timeout();
      },
    });
    // Scripted steps keep no record, so the group's stored phase stays pending: what matters is that nothing failed.
    expect((await upgrade('timeout-once', flaky, { groups: ['blue'] })).mediaServers[0].groups[0].error).toBeUndefined();
    expect(flaky.calls).toEqual(['preflight', 'drain', 'checkDrain', 'deploy', 'deploy', 'checkDeployment', 'verify', 'restore']);

    const down = scriptedSteps({
      deploy: async () => {
        throw timeout();
      },
    });
    const summary = await upgrade('timeout-always', down, { groups: ['blue'] });
    expect(down.calls.filter((name) => name === 'deploy')).toHaveLength(7);
    expect(down.rolledBack).toHaveLength(1);
    expect(summary.mediaServers[0].groups[0]).toMatchObject({ error: { code: 'Error', message: 'request timed out' } });
  });

  it('rolls back a group whose drain abort failed, so its route is restored once the old release answers', async () => {
    const steps = scriptedSteps(
      {
        abortDrain: async () => {
          throw new UpgradeStepError('RouteWriteFailed', 'restore: the route table did not read back as written');
        },
      },
      true,
    );
    const summary = await upgrade('abort-failed', steps, { groups: ['blue'], onDrainTimeout: 'abort' });
    expect(steps.rolledBack).toHaveLength(1);
    expect(summary.mediaServers[0].groups[0]).toMatchObject({ error: { code: 'RouteWriteFailed' } });
  });

  it('ends the group, not the whole run, when the rollback itself throws', async () => {
    const steps = scriptedSteps({
      verify: async () => {
        throw new UpgradeStepError('VerificationFailed', 'blue-1: not accepting calls');
      },
      rollback: async () => {
        throw new UpgradeStepError('InvalidInput', 'rollback input: cause: too long');
      },
    });
    const summary = await upgrade('rollback-threw', steps);
    expect(summary.status).toBe('failed');
    expect(summary.mediaServers[0].groups).toEqual([
      expect.objectContaining({ groupId: 'blue', error: { code: 'InvalidInput', message: 'rollback input: cause: too long' } }),
      expect.objectContaining({ groupId: 'green', phase: 'pending' }),
    ]);
  });

  it('checks the drain at once after its write, then when its settle ends if no call is left, not a poll later', async () => {
    let checks = 0;
    const steps = scriptedSteps({
      checkDrain: async () => (++checks === 1 ? { remainingCalls: 0, elapsedSeconds: 0, drained: false, timedOut: false, settlesInMs: 1_700 } : { remainingCalls: 0, elapsedSeconds: 2, drained: true, timedOut: false }),
    });
    await runUpgrade({
      request: parseUpgradeRequest({ image: 'repo/cc', version: '2.0.0', groups: ['blue'], mediaServers: ['west/ms-1'] }),
      inventory,
      upgradeId: 'drain-settled',
      steps,
      store: table.store(systemClock),
      pollMs: 5_000,
      sleep: async (ms) => void steps.calls.push(`sleep ${ms}`),
    });
    expect(steps.calls.slice(steps.calls.indexOf('drain'), steps.calls.indexOf('deploy'))).toEqual(['drain', 'checkDrain', 'sleep 1700', 'checkDrain']);
  });

  it('checks the rollout at once after deploy (a deployment done within it waits no poll), then after each poll while it runs', async () => {
    let checks = 0;
    const steps = scriptedSteps({ checkDeployment: async () => ({ complete: ++checks === 3, failed: false, detail: `check ${checks}` }) });
    await runUpgrade({
      request: parseUpgradeRequest({ image: 'repo/cc', version: '2.0.0', groups: ['blue'], mediaServers: ['west/ms-1'] }),
      inventory,
      upgradeId: 'rollout-checked-at-once',
      steps,
      store: table.store(systemClock),
      pollMs: 1_000,
      sleep: async (ms) => void steps.calls.push(`sleep ${ms}`),
    });
    // The scripted steps keep no record, so the flow's path is what this shows (from the drain to the restore).
    expect(steps.calls.slice(steps.calls.indexOf('drain'))).toEqual([
      'drain',
      'checkDrain',
      'deploy',
      'checkDeployment',
      'sleep 1000',
      'checkDeployment',
      'sleep 1000',
      'checkDeployment',
      'verify',
      'restore',
    ]);
  });
});

import { systemClock } from '../../runtime/shared/clock';
import { PAPER_INVENTORY } from '../support/upgrade/paper-inventory';
import { createUpgradeTaskHandlers } from '../../runtime/upgrade/flow/upgrade-task-handlers';
import type { UpgradeStateStore } from '../../runtime/upgrade/state/upgrade-state-store';
import type { EarlierRunLease, GroupUpgradeSteps, GroupUpgradeTarget } from '../../runtime/upgrade/flow/upgrade-steps';

const inventory = PAPER_INVENTORY;

const target: GroupUpgradeTarget = { upgradeId: 'u-1', mediaServerId: 'west/ms-1', groupId: 'blue', image: 'repo/cc', version: '2.0.0', maxDrainSeconds: 60, onDrainTimeout: 'wait', runId: 'abc' };

/** Steps that record what the handlers pass them. */
function recordingSteps() {
  const seen: { preflight: (EarlierRunLease | null | undefined)[]; rollback: string[] } = { preflight: [], rollback: [] };
  const steps = {
    preflight: async (_: GroupUpgradeTarget, earlierRun?: EarlierRunLease | null) => (seen.preflight.push(earlierRun), { ready: true as const }),
    rollback: async (_: GroupUpgradeTarget, cause: string) => (seen.rollback.push(cause), 'rolled-back' as const),
  } as unknown as GroupUpgradeSteps;
  return { seen, handlers: createUpgradeTaskHandlers({ steps, store: {} as UpgradeStateStore, inventory, clock: systemClock }) };
}

describe('the upgrade task handlers', () => {
  it('give rollback the message of a Lambda error, which Step Functions passes as JSON in the Cause, as the local runner does', async () => {
    const { seen, handlers } = recordingSteps();
    const lambdaCause = JSON.stringify({ errorType: 'VerificationFailed', errorMessage: 'group blue of west/ms-1 2.0.0: blue-1: not accepting calls', trace: ['at verify'] });
    await handlers.rollback({ target, cause: lambdaCause });
    await handlers.rollback({ target, cause: 'deployment failed: circuit breaker' });
    expect(seen.rollback).toEqual(['group blue of west/ms-1 2.0.0: blue-1: not accepting calls', 'deployment failed: circuit breaker']);
  });

  it("give preflight the earlier run's lease it saw, and refuse a malformed one naming the field", async () => {
    const { seen, handlers } = recordingSteps();
    await expect(handlers.preflight({ target, earlierRun: null })).resolves.toEqual({ ready: true });
    await handlers.preflight({ target, earlierRun: { owner: 'u-1 run old', leaseUntil: 1_700_000_000_000 } });
    expect(seen.preflight).toEqual([null, { owner: 'u-1 run old', leaseUntil: 1_700_000_000_000 }]);
    await expect(handlers.preflight({ target, earlierRun: { owner: 'u-1 run old' } })).rejects.toThrow(/^preflight input: earlierRun\.leaseUntil: /);
  });
});

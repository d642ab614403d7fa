import { systemClock } from '../../runtime/upgrade/clock';
import { parseFleetInventory } from '../../runtime/upgrade/fleet-inventory';
import { runUpgrade } from '../../runtime/upgrade/upgrade-orchestrator';
import { parseUpgradeRequest } from '../../runtime/upgrade/upgrade-request';
import { PhaseConflictError } from '../../runtime/upgrade/upgrade-state-store';
import type { GroupUpgradeSteps, GroupUpgradeTarget } from '../../runtime/upgrade/upgrade-steps';
import { startStateTable, type StateTable } from '../support/upgrade/state-table-fixture';

const inventory = parseFleetInventory({
  mediaServers: [
    {
      id: 'west/ms-1',
      esl: { host: '127.0.0.1' },
      eslPassword: { source: 'literal', value: 'ClueCon' },
      groups: ['blue', 'green'].map((id) => ({ id, deployment: { kind: 'local', runDir: '/nonexistent', instances: [{ eslPort: 1, healthPort: 2 }] } })),
    },
  ],
});

/** Steps that succeed, except `deploy`, which finds the group moved on by another run. */
function stepsLosingTheGroupAtDeploy(): GroupUpgradeSteps & { rolledBack: GroupUpgradeTarget[] } {
  const rolledBack: GroupUpgradeTarget[] = [];
  const nothing = async () => undefined;
  return {
    rolledBack,
    preflight: nothing,
    drain: nothing,
    checkDrain: async () => ({ remainingCalls: 0, elapsedSeconds: 0, drained: true, timedOut: false }),
    forceEndCalls: async () => 0,
    abortDrain: nothing,
    deploy: async (target) => {
      throw new PhaseConflictError(target, ['drained'], 'deploying');
    },
    checkDeployment: async () => ({ complete: true, failed: false, detail: '' }),
    verify: nothing,
    restore: nothing,
    rollback: async (target) => {
      rolledBack.push(target);
      return 'rolled-back';
    },
  };
}

describe('runUpgrade', () => {
  let table: StateTable;
  beforeAll(async () => {
    table = await startStateTable();
  });
  afterAll(() => table.close());

  it('stops without rolling back when another run of the upgrade moved the group on', async () => {
    const steps = stepsLosingTheGroupAtDeploy();
    const summary = await runUpgrade({
      request: parseUpgradeRequest({ image: 'repo/cc', version: '2.0.0', groups: ['blue', 'green'], mediaServers: ['west/ms-1'] }),
      inventory,
      upgradeId: 'phase-lost',
      steps,
      store: table.store(systemClock),
      pollMs: 1,
    });
    expect(steps.rolledBack).toEqual([]);
    expect(summary.status).toBe('failed');
    expect(summary.mediaServers[0].groups).toEqual([
      expect.objectContaining({
        groupId: 'blue',
        error: { code: 'LeaseHeld', message: expect.stringMatching(/expected phase drained, found deploying: another run of upgrade phase-lost changed the group; stopped without rolling back/) },
      }),
      expect.objectContaining({ groupId: 'green', phase: 'pending' }),
    ]);
  });
});

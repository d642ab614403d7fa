import { storePublishingAuditMetrics, UPGRADE_METRICS_NAMESPACE } from '../../runtime/upgrade/state/audit-metrics';
import { DynamoUpgradeStateStore } from '../../runtime/upgrade/state/upgrade-state-store';
import { startStateTable, type StateTable } from '../support/upgrade/state-table-fixture';

const clock = { now: () => Date.UTC(2026, 11, 5, 3, 0, 0) };
const key = { upgradeId: 'u-1', mediaServerId: 'west/ms-1', groupId: 'blue' };

describe('orchestrator metrics from the audit trail', () => {
  let table: StateTable;
  beforeAll(async () => {
    table = await startStateTable();
  });
  afterAll(() => table.close());

  it('publishes calls left, drain time and an overdue drain per media server and group, once the event is stored', async () => {
    const lines: string[] = [];
    const store = storePublishingAuditMetrics(table.store(clock), (line) => lines.push(line), clock);
    await store.appendAudit(key, { type: 'drain-count', remaining: 7, elapsedSeconds: 930, timedOut: true });
    await store.appendAudit(key, { type: 'phase', from: 'draining', to: 'rolled-back' });
    await store.appendAudit(key, { type: 'health', instance: '10.0.0.5:8080', ok: true, detail: 'ok' });

    expect((await table.store(clock).audit('u-1')).map((entry) => entry.event.type)).toEqual(['drain-count', 'phase', 'health']);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        _aws: {
          Timestamp: clock.now(),
          CloudWatchMetrics: [
            {
              Namespace: UPGRADE_METRICS_NAMESPACE,
              Dimensions: [['MediaServer', 'Group']],
              Metrics: [
                { Name: 'CallsLeft', Unit: 'Count' },
                { Name: 'DrainSeconds', Unit: 'Seconds' },
                { Name: 'DrainOverdue', Unit: 'Count' },
              ],
            },
          ],
        },
        UpgradeId: 'u-1',
        MediaServer: 'west/ms-1',
        Group: 'blue',
        CallsLeft: 7,
        DrainSeconds: 930,
        DrainOverdue: 1,
      },
      expect.objectContaining({ Phase: 'rolled-back', PhaseChanges: 1, FailedGroupUpgrades: 1 }),
    ]);
  });

  it('publishes nothing for an event the table refused', async () => {
    const lines: string[] = [];
    const missingTable = new DynamoUpgradeStateStore({ client: table.client, tableName: 'no-such-table', clock });
    const store = storePublishingAuditMetrics(missingTable, (line) => lines.push(line), clock);
    await expect(store.appendAudit(key, { type: 'drain-count', remaining: 1, elapsedSeconds: 1, timedOut: false })).rejects.toThrow(/non-existent table|not found/i);
    expect(lines).toEqual([]);
  });
});

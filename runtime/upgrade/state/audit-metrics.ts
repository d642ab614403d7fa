import type { Clock } from '../../shared/clock';
import { emfEvent, type EmfEventMetric } from '../../metrics/emf-event';
import type { AuditEvent, GroupKey } from './upgrade-records';
import type { UpgradeStateStore } from './upgrade-state-store';

/** CloudWatch namespace of the orchestrator's metrics (the data center's dashboard and drain alarm read it). */
export const UPGRADE_METRICS_NAMESPACE = 'voiceplane/upgrades';

/** The metrics an audit event stands for: calls left and drain time per media server and group, phase changes, overdue drains. */
export function auditEventMetrics(event: AuditEvent): EmfEventMetric[] {
  switch (event.type) {
    case 'drain-count':
      return [
        { name: 'CallsLeft', unit: 'Count', value: event.remaining },
        { name: 'DrainSeconds', unit: 'Seconds', value: event.elapsedSeconds },
        { name: 'DrainOverdue', unit: 'Count', value: event.timedOut ? 1 : 0 },
      ];
    case 'phase':
      return [
        { name: 'PhaseChanges', unit: 'Count', value: 1 },
        ...(event.to === 'failed' || event.to === 'rolled-back' ? [{ name: 'FailedGroupUpgrades', unit: 'Count' as const, value: 1 }] : []),
      ];
    default:
      return [];
  }
}

/**
 * The store, publishing each audit event's metrics as an EMF line once the event is stored (in Lambda, stdout goes
 * to CloudWatch Logs, which turns the lines into metrics).
 */
export function storePublishingAuditMetrics(store: UpgradeStateStore, write: (line: string) => void, clock: Clock): UpgradeStateStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'appendAudit') return Reflect.get(target, property, receiver);
      return async (key: GroupKey, event: AuditEvent) => {
        await target.appendAudit(key, event);
        const metrics = auditEventMetrics(event);
        if (metrics.length === 0) return;
        const dimensions = { MediaServer: key.mediaServerId, Group: key.groupId };
        const properties = { UpgradeId: key.upgradeId, ...(event.type === 'phase' ? { Phase: event.to } : {}) };
        write(`${JSON.stringify(emfEvent(UPGRADE_METRICS_NAMESPACE, clock.now(), dimensions, metrics, properties))}\n`);
      };
    },
  });
}

import { MetricRegistry, type Counter } from '../metrics/metric-registry';

/** CloudWatch namespace of the call-control service's metrics (the constructs' dashboards and alarms read it). */
export const CALL_CONTROL_METRICS_NAMESPACE = 'voiceplane/call-control';

/** The call-control service's metrics, per group: calls it holds, started, ended, detached, and flows that failed. */
export class CallControlMetrics {
  readonly registry: MetricRegistry;
  readonly callsStarted: Counter;
  readonly callsEnded: Counter;
  readonly callsDetached: Counter;
  readonly failedFlows: Counter;

  constructor(group: string, activeCalls: () => number) {
    this.registry = new MetricRegistry(CALL_CONTROL_METRICS_NAMESPACE, { Group: group });
    this.registry.gauge({ name: 'ActiveCalls', help: 'Calls this instance holds now.', unit: 'Count' }, activeCalls);
    this.callsStarted = this.registry.counter({ name: 'CallsStarted', help: 'Calls the media servers handed to this instance.', unit: 'Count' });
    this.callsEnded = this.registry.counter({ name: 'CallsEnded', help: 'Calls that ended while this instance held them.', unit: 'Count' });
    this.callsDetached = this.registry.counter({ name: 'CallsDetached', help: 'Calls let go alive (failed flow or shutdown deadline) for the dialplan to re-home.', unit: 'Count' });
    this.failedFlows = this.registry.counter({ name: 'FailedFlows', help: 'Call flows that failed while the call was up.', unit: 'Count' });
  }

  /** Counts how a call this instance held came to an end. */
  finished(detachReason: string | undefined): void {
    if (detachReason === undefined) this.callsEnded.add();
    else this.callsDetached.add();
    if (detachReason === 'flow-failed') this.failedFlows.add();
  }
}

import { MetricRegistry, type Counter, type Histogram } from '../metrics/metric-registry';
import type { CallEntry } from './call/call-entries';
import type { CdsClock } from './clock/cds-clock';
import { hlcToMs } from './clock/hlc';

/** CloudWatch namespace of the CDS nodes' metrics (the site's alarms read it). */
export const CDS_METRICS_NAMESPACE = 'voiceplane/cds';

/** Prometheus buckets of the propagation delay, in milliseconds: a cross-region hop up to a peer back from an outage. */
export const PROPAGATION_DELAY_BUCKETS_MS: readonly number[] = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000];

/** What the node knows now, read at each publication. */
export interface CdsGaugeReadings {
  /** Peers the network health monitor hears from in time, and those it does not (suspected or expired). */
  readonly peers: () => { readonly healthy: number; readonly unhealthy: number };
  /** Control messages and calls peers have not acknowledged yet (queued, waiting for a retry, or on their way). */
  readonly pendingDeliveries: () => number;
}

/**
 * A CDS node's metrics, under its site: peer health, pending deliveries, propagation delay and archive writes.
 * EMF publishes the interval's maximum propagation delay; Prometheus a histogram of it.
 */
export class CdsMetrics {
  readonly registry: MetricRegistry;
  readonly archiveWrites: Counter;
  readonly archiveFailures: Counter;
  private readonly propagationDelay: Histogram;

  constructor(
    site: string,
    private readonly clock: CdsClock,
    readings: CdsGaugeReadings,
  ) {
    this.registry = new MetricRegistry(CDS_METRICS_NAMESPACE, { Site: site });
    this.registry.gauge({ name: 'PeersHealthy', help: 'Peers the network health monitor hears from in time.', unit: 'Count' }, () => readings.peers().healthy);
    this.registry.gauge({ name: 'PeersUnhealthy', help: 'Peers silent past two heartbeats (suspected or expired).', unit: 'Count' }, () => readings.peers().unhealthy);
    this.registry.gauge({ name: 'PendingDeliveries', help: 'Deliveries to peers queued and not acknowledged yet.', unit: 'Count' }, readings.pendingDeliveries);
    this.archiveWrites = this.registry.counter({ name: 'ArchiveWrites', help: 'Call records written to the archive.', unit: 'Count' });
    this.archiveFailures = this.registry.counter({ name: 'ArchiveFailures', help: 'Archive writes and amendments that failed (they are retried).', unit: 'Count' });
    this.propagationDelay = this.registry.histogram(
      { name: 'PropagationDelay', help: 'Milliseconds from the owner accepting a write to a participant acknowledging it.', unit: 'Milliseconds' },
      PROPAGATION_DELAY_BUCKETS_MS,
    );
  }

  /**
   * A participant acknowledged entries of a call this site owns. Each entry's recording stamp carries the owner's
   * clock reading when it accepted the entry; a stamp ahead of the clock (a burst, or a participant's stamp the
   * clock moved past) counts as no delay.
   */
  acknowledged(entries: readonly CallEntry[]): void {
    const now = this.clock.now();
    for (const entry of entries) {
      if (entry.recordedTs !== undefined) this.propagationDelay.observe(Math.max(0, now - hlcToMs(entry.recordedTs)));
    }
  }
}

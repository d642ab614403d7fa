import type { CdsClock } from '../clock/cds-clock';
import { InFlight } from '../in-flight';

export type PeerHealth = 'alive' | 'suspected' | 'expired';

export interface NetworkHealthMonitorOptions {
  readonly peers: readonly string[];
  readonly clock: CdsClock;
  /** "I'm alive" interval. */
  readonly heartbeatMs: number;
  /** Silence after which a peer is reported as a possible outage (two missed heartbeats). */
  readonly suspectAfterMs: number;
  /** Silence after which a peer's registrations are dropped. */
  readonly expiryMs: number;
  /** Sends an "I'm alive"; a reply counts as hearing from the peer (the caller reports it with heard()). */
  readonly sendHeartbeat: (peer: string) => Promise<void>;
  readonly onSuspected: (peer: string, silentMs: number) => void;
  readonly onExpired: (peer: string, silentMs: number) => void;
  readonly onRecovered: (peer: string, silentMs: number) => void;
}

/**
 * The network health monitor: sends "I'm alive" messages to every peer and watches how long each has been
 * silent (any authenticated request from it, or reply to us, counts as hearing from it).
 */
export class NetworkHealthMonitor {
  private readonly lastHeard = new Map<string, number>();
  private readonly health = new Map<string, PeerHealth>();
  private cancelTick?: () => void;
  private readonly work = new InFlight();

  constructor(private readonly options: NetworkHealthMonitorOptions) {
    const now = options.clock.monotonicMs();
    options.peers.forEach((peer) => {
      this.lastHeard.set(peer, now);
      this.health.set(peer, 'alive');
    });
  }

  start(): void {
    this.tick();
  }

  /** Stops the heartbeats; resolves when those under way have settled. */
  async stop(): Promise<void> {
    this.cancelTick?.();
    this.cancelTick = undefined;
    await this.work.settled();
  }

  heard(peer: string): void {
    const previous = this.lastHeard.get(peer);
    if (previous === undefined) return;
    const now = this.options.clock.monotonicMs();
    this.lastHeard.set(peer, now);
    if (this.health.get(peer) !== 'alive') {
      this.health.set(peer, 'alive');
      this.options.onRecovered(peer, now - previous);
    }
  }

  status(peer: string): { health: PeerHealth; silentMs: number } | undefined {
    const lastHeard = this.lastHeard.get(peer);
    const health = this.health.get(peer);
    if (lastHeard === undefined || health === undefined) return undefined;
    return { health, silentMs: this.options.clock.monotonicMs() - lastHeard };
  }

  /** Peers heard from in time, and those silent past the suspicion threshold (suspected or expired). */
  peerCounts(): { healthy: number; unhealthy: number } {
    const alive = [...this.health.values()].filter((health) => health === 'alive').length;
    return { healthy: alive, unhealthy: this.health.size - alive };
  }

  private tick(): void {
    for (const peer of this.options.peers) {
      void this.work.track(this.options.sendHeartbeat(peer).catch(() => undefined));
      this.checkSilence(peer);
    }
    this.cancelTick = this.options.clock.schedule(() => this.tick(), this.options.heartbeatMs);
  }

  private checkSilence(peer: string): void {
    const silentMs = this.options.clock.monotonicMs() - (this.lastHeard.get(peer) ?? 0);
    const health = this.health.get(peer);
    if (health === 'alive' && silentMs > this.options.suspectAfterMs) {
      this.health.set(peer, 'suspected');
      this.options.onSuspected(peer, silentMs);
    }
    if (this.health.get(peer) === 'suspected' && silentMs >= this.options.expiryMs) {
      this.health.set(peer, 'expired');
      this.options.onExpired(peer, silentMs);
    }
  }
}

import type { CdsClock } from './cds-clock';
import { hlcAtMs, type HlcTimestamp } from './hlc';

/**
 * The timestamp module of a participant: from the time each peer puts in its replies, the offset of that
 * peer's clock to ours (assuming the reply was stamped halfway through the round trip). Stamps for a call
 * owned by a peer are taken on the owner's simulated clock, so a skewed local clock does not reorder writes.
 */
export class OwnerClockOffsets {
  private readonly offsets = new Map<string, number>();

  constructor(private readonly clock: CdsClock) {}

  record(site: string, peerTimeMs: number, sentAtMs: number, receivedAtMs: number): void {
    this.offsets.set(site, peerTimeMs - (sentAtMs + receivedAtMs) / 2);
  }

  offsetOf(site: string): number | undefined {
    return this.offsets.get(site);
  }

  /** The owner's clock as simulated here (our own clock until we have heard from the owner). */
  ownerNow(site: string): HlcTimestamp {
    return hlcAtMs(this.clock.now() + (this.offsets.get(site) ?? 0));
  }
}

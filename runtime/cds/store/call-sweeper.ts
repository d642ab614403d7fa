import { errorMessage, type Logger } from '../../shared/logger';
import type { CdsClock } from '../clock/cds-clock';
import type { CdsNodeLimits } from '../cds-limits';
import type { LocalCallStore } from './local-call-store';

export interface CallSweeperOptions {
  readonly calls: LocalCallStore;
  readonly clock: CdsClock;
  readonly limits: Pick<CdsNodeLimits, 'idleCallMs' | 'maxCachedBytes' | 'maxCallAgeMs' | 'sweepIntervalMs'>;
  readonly logger: Logger;
}

/**
 * Keeps the node's calls bounded over time: every `sweepIntervalMs` the calls idle past `idleCallMs` leave
 * memory (and the least recently used ones while the data in memory passes `maxCachedBytes`), and the calls open past `maxCallAgeMs` (never ended: a lost hangup, or junk) are ended. A call this
 * site owns is ended by the normal end of call, so it is archived once; a foreign call has its local clients
 * unregistered, so this site unregisters from the owner and closes it.
 */
export class CallSweeper {
  private readonly expiring = new Set<string>();
  private cancelTimer?: () => void;
  private sweeping: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: CallSweeperOptions) {}

  start(): void {
    if (this.stopped || this.cancelTimer) return;
    this.cancelTimer = this.options.clock.schedule(() => {
      this.cancelTimer = undefined;
      this.sweeping = this.sweep()
        .catch((error: unknown) => this.options.logger.error('could not sweep the calls', { error: errorMessage(error) }))
        .finally(() => this.start());
    }, this.options.limits.sweepIntervalMs);
  }

  /** Stops sweeping, once the sweep under way is over. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.sweeping;
  }

  async sweep(): Promise<void> {
    const { calls, clock, limits, logger } = this.options;
    const now = clock.now();
    const evicted = calls.evict(now - limits.idleCallMs, limits.maxCachedBytes);
    if (evicted > 0) logger.debug('idle calls left memory', { evicted, cached: calls.cachedCallCount });
    for (const callId of this.expiring) if (!calls.isOpen(callId)) this.expiring.delete(callId);
    for (const callId of calls.openCallIds()) {
      const ageMs = now - (calls.openedAt(callId) ?? now);
      if (this.stopped || ageMs < limits.maxCallAgeMs || this.expiring.has(callId)) continue;
      // An owned call's end takes its grace period: it is not ended again meanwhile. A foreign one is looked at again
      // at every sweep until it has closed.
      if (calls.isOwnerOf(callId)) this.expiring.add(callId);
      try {
        await this.expire(callId, ageMs);
      } catch (error) {
        this.expiring.delete(callId);
        logger.error('could not end a call past the maximum age; retrying at the next sweep', { callId, error: errorMessage(error) });
      }
    }
  }

  private async expire(callId: string, ageMs: number): Promise<void> {
    const { calls, logger } = this.options;
    if (calls.isOwnerOf(callId)) {
      logger.warn('call open past the maximum age; ending it', { callId, ageMs });
      await calls.endCall(callId);
      return;
    }
    const clients = calls.clientsOf(callId);
    if (clients.length === 0) {
      // Its clients were unregistered at an earlier sweep and it is still open: nothing here wants it any more.
      logger.warn('call open past the maximum age without local clients; closing it', { callId, ageMs });
      await calls.close(callId);
      return;
    }
    logger.warn('call open past the maximum age; unregistering its local clients', { callId, ageMs });
    for (const client of clients) await calls.unregisterClient(callId, client);
  }
}

import { backoffDelayMs, type BackoffPolicy } from '../../esl/backoff';
import { errorMessage, type Logger } from '../../shared/logger';
import type { CallArchive } from '../store/call-archive';
import type { CdsClock } from '../clock/cds-clock';
import type { CallChange, LocalCallStore } from '../store/local-call-store';
import type { OwnerReplication } from './owner-replication';
import type { TrackedCall } from '../store/tracked-call';
import { InFlight } from '../in-flight';

export interface CallEndingOptions {
  readonly site: string;
  readonly calls: LocalCallStore;
  readonly owner: OwnerReplication;
  readonly archive: CallArchive;
  readonly clock: CdsClock;
  /**
   * How long a call nobody is registered for waits for a re-registration before it is ended, and how long an
   * ended call waits for its participants to hand over the writes racing the end before it is sealed.
   */
  readonly endGraceMs: number;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  readonly logger: Logger;
}

/** Participants that have yet to hand over their writes racing the end of one call. */
interface EndHandover {
  readonly acknowledged: Set<string>;
  /** Resolves the wait if every participant left has acknowledged. */
  readonly check: () => void;
  readonly cancel: () => void;
}

type HandoverOutcome = 'complete' | 'grace-over' | 'stopped';

/**
 * End of call at the owner: once ended, every participant is told (outbox) and answers with its writes the
 * owner lacks (both legs hang up within milliseconds, and the remote leg's hangup data belongs in the record);
 * once all have answered, left, or the grace is over, the record is sealed, archived exactly once, the rest of
 * it sent to the participants, and the call closed. A call whose last registration went away is ended after
 * the grace. Each step is repeated after a restart until it is done, so a crash in between loses nothing.
 */
export class CallEnding {
  private readonly handovers = new Map<string, EndHandover>();
  private readonly graceTimers = new Map<string, () => void>();
  private readonly retryTimers = new Set<() => void>();
  private readonly work = new InFlight();
  private stopped = false;

  constructor(private readonly options: CallEndingOptions) {
    options.calls.onChange((change) => this.onChange(change));
    options.owner.onEndAcknowledged((callId, site) => {
      const handover = this.handovers.get(callId);
      handover?.acknowledged.add(site);
      handover?.check();
    });
  }

  /** After a restart: finishes ended calls, and starts the grace of calls nobody is registered for. */
  resume(openCalls: readonly TrackedCall[]): void {
    for (const call of openCalls) {
      if (call.owner !== this.options.site) continue;
      if (call.ended) {
        // Ended before the restart: participants' writes racing the end are taken again until it is sealed.
        call.finishing = true;
        this.finish(call, 0);
      }
      else if (!call.hasInterest) this.startGrace(call.callId);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.graceTimers.forEach((cancel) => cancel());
    this.graceTimers.clear();
    this.retryTimers.forEach((cancel) => cancel());
    this.retryTimers.clear();
    [...this.handovers.values()].forEach((handover) => handover.cancel());
    await this.work.settled();
  }

  private onChange(change: CallChange): void {
    const { call } = change;
    if (call.owner !== this.options.site) return;
    if (change.kind === 'ended') {
      this.cancelGrace(call.callId);
      this.finish(call, 0);
    } else if (change.kind === 'interest' && call.ended) {
      this.handovers.get(call.callId)?.check();
    } else if (change.kind === 'interest' && !call.ended) {
      if (call.hasInterest) this.cancelGrace(call.callId);
      else this.startGrace(call.callId);
    }
  }

  private startGrace(callId: string): void {
    if (this.graceTimers.has(callId) || this.stopped) return;
    const cancel = this.options.clock.schedule(() => {
      this.graceTimers.delete(callId);
      void this.work.track(this.endIfStillAbandoned(callId));
    }, this.options.endGraceMs);
    this.graceTimers.set(callId, cancel);
  }

  private cancelGrace(callId: string): void {
    this.graceTimers.get(callId)?.();
    this.graceTimers.delete(callId);
  }

  private async endIfStillAbandoned(callId: string): Promise<void> {
    try {
      const call = await this.options.calls.find(callId);
      if (!call || call.ended || call.hasInterest) return;
      this.options.logger.info('no participant re-registered within the grace; ending the call', { callId });
      await this.options.calls.endCall(callId);
    } catch (error) {
      this.options.logger.error('could not end an abandoned call; retrying', { callId, error: errorMessage(error) });
      this.startGrace(callId);
    }
  }

  private finish(call: TrackedCall, attempt: number): void {
    if (this.stopped) return;
    const finishing = this.announceArchiveAndClose(call).catch((error: unknown) => {
      if (this.stopped) return;
      const delayMs = backoffDelayMs(attempt, this.options.backoff, this.options.random);
      this.options.logger.error('could not finish an ended call; retrying', { callId: call.callId, delayMs, error: errorMessage(error) });
      const cancel = this.options.clock.schedule(() => {
        this.retryTimers.delete(cancel);
        this.finish(call, attempt + 1);
      }, delayMs);
      this.retryTimers.add(cancel);
    });
    void this.work.track(finishing);
  }

  private async announceArchiveAndClose(call: TrackedCall): Promise<void> {
    const handover = this.awaitHandover(call);
    await this.options.owner.announceEnd(call, 'ending');
    const handed = await handover;
    if (handed === 'stopped') return;
    if (handed === 'grace-over') this.options.logger.warn('participants did not answer the end within the grace; sealing without them', { callId: call.callId });
    await this.options.calls.seal(call.callId);
    const outcome = await this.options.archive.archive(call.callId, call.owner, call.record.endedTs ?? 0, call.record.entries());
    this.options.logger.info('call archived', { callId: call.callId, outcome, entries: call.record.entries().length });
    await this.options.owner.announceEnd(call, 'final');
    await this.options.calls.close(call.callId);
  }

  /** Resolves once every participant still registered has acknowledged the end, or the grace is over. */
  private awaitHandover(call: TrackedCall): Promise<HandoverOutcome> {
    this.handovers.get(call.callId)?.cancel();
    return new Promise((resolve) => {
      const acknowledged = new Set<string>();
      const done = (outcome: HandoverOutcome): void => {
        cancelTimer();
        if (this.handovers.get(call.callId) === handover) this.handovers.delete(call.callId);
        resolve(outcome);
      };
      const cancelTimer = this.options.clock.schedule(() => done('grace-over'), this.options.endGraceMs);
      const handover: EndHandover = {
        acknowledged,
        check: () => {
          if ([...call.participants.keys()].every((site) => acknowledged.has(site))) done('complete');
        },
        cancel: () => done('stopped'),
      };
      this.handovers.set(call.callId, handover);
      handover.check();
    });
  }
}

import { systemClock, systemSleep, type Clock, type Sleep } from './clock';
import { mapWithConcurrency } from './concurrency-pool';
import type { FleetInventory } from './fleet-inventory';
import { isRunOf, leaseOwner, newRunId } from './upgrade-id';
import { planUpgrade, type MediaServerPlan } from './upgrade-plan';
import { registerUpgrade } from './upgrade-registration';
import type { GroupOutcome, MediaServerOutcome, UpgradeProgress, UpgradeSummary } from './upgrade-progress';
import type { UpgradeRequest } from './upgrade-request';
import { PhaseConflictError, type UpgradeStateStore } from './upgrade-state-store';
import { UpgradeStepError, type GroupUpgradeStepName, type GroupUpgradeSteps, type GroupUpgradeTarget } from './upgrade-steps';

export interface RunUpgradeOptions {
  readonly request: UpgradeRequest;
  readonly inventory: FleetInventory;
  /** The same id resumes the upgrade from its stored phases. */
  readonly upgradeId: string;
  readonly steps: GroupUpgradeSteps;
  readonly store: UpgradeStateStore;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  /** Between two drain or deployment checks (default 1 000 ms). */
  readonly pollMs?: number;
  /**
   * Settles when a call of the group ends on the media server (or `signal` aborts): a drain wait then
   * checks again at once instead of at its next poll. Default: polls only.
   */
  readonly groupCallEnded?: (mediaServerId: string, groupId: string, signal: AbortSignal) => Promise<void>;
  readonly onProgress?: (progress: UpgradeProgress) => void;
  /** Stops the run between two steps (what stays behind is resumable); the run then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Attempts of a step failing with a transient error, as the state machine's Retry (default 6, from 500 ms doubling). */
  readonly retry?: { readonly attempts: number; readonly initialDelayMs: number };
}

type Report = (progress: Omit<UpgradeProgress, 'mediaServerId' | 'groupId' | 'elapsedMs'>) => void;

/** Errors worth retrying, by name: the same list the state machine retries. */
const TRANSIENT_ERRORS = new Set(['EslConnectionError', 'EslTimeoutError', 'ThrottlingException', 'ProvisionedThroughputExceededException', 'TimeoutError']);

/**
 * Runs an upgrade locally with the same steps and the same flow as the Step Functions state machine:
 * media servers in parallel (at most `concurrency`), the groups of one media server one after the other,
 * a failed group rolled back and the later groups of its media server left alone.
 */
export async function runUpgrade(options: RunUpgradeOptions): Promise<UpgradeSummary> {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  // This process is one run of the upgrade: a second live process resuming the same id is refused by the lease.
  const plan = planUpgrade(options.request, options.inventory, options.upgradeId, newRunId());
  await registerUpgrade(options.store, options.upgradeId, options.request);
  const runner = new MediaServerRunner(options, clock);
  const mediaServers = await mapWithConcurrency(plan.mediaServers, plan.concurrency, (mediaServer) => runner.run(mediaServer));
  const drains = mediaServers.flatMap((mediaServer) => mediaServer.groups.map((group) => group.drainSeconds ?? 0));
  return {
    upgradeId: options.upgradeId,
    status: mediaServers.every((mediaServer) => mediaServer.status === 'upgraded') ? 'succeeded' : 'failed',
    mediaServers,
    maxDrainSeconds: Math.max(0, ...drains),
    elapsedMs: clock.now() - startedAt,
  };
}

class MediaServerRunner {
  private readonly sleep: Sleep;
  private readonly pollMs: number;
  private readonly retry: { attempts: number; initialDelayMs: number };

  constructor(private readonly options: RunUpgradeOptions, private readonly clock: Clock) {
    this.sleep = options.sleep ?? systemSleep;
    this.pollMs = options.pollMs ?? 1_000;
    this.retry = options.retry ?? { attempts: 6, initialDelayMs: 500 };
  }

  async run(plan: MediaServerPlan): Promise<MediaServerOutcome> {
    const startedAt = this.clock.now();
    const groups: GroupOutcome[] = [];
    for (const target of plan.targets) {
      if (groups.some((group) => group.phase !== 'restored')) {
        groups.push({ groupId: target.groupId, phase: 'pending', forcedCalls: 0 });
        continue;
      }
      groups.push(await this.runGroup(target, startedAt));
    }
    return {
      mediaServerId: plan.mediaServerId,
      status: groups.every((group) => group.phase === 'restored') ? 'upgraded' : 'failed',
      groups,
      elapsedMs: this.clock.now() - startedAt,
    };
  }

  private async runGroup(target: GroupUpgradeTarget, startedAt: number): Promise<GroupOutcome> {
    const report: Report = (progress) =>
      this.options.onProgress?.({ mediaServerId: target.mediaServerId, groupId: target.groupId, elapsedMs: this.clock.now() - startedAt, ...progress });
    const step = <T>(name: GroupUpgradeStepName, call: () => Promise<T>): Promise<T> => {
      report({ step: name });
      return this.withRetry(call);
    };
    const done = async (error?: unknown): Promise<GroupOutcome> => {
      const record = await this.options.store.getGroup(target);
      const phase = record?.phase ?? 'pending';
      const drainSeconds = record?.drainedAt !== undefined && record.drainWrittenAt !== undefined ? (record.drainedAt - record.drainWrittenAt) / 1000 : undefined;
      report({ step: 'done', phase, ...(error === undefined ? {} : { detail: errorText(error) }) });
      return { groupId: target.groupId, phase, drainSeconds, forcedCalls: record?.forcedCalls ?? 0, ...(error === undefined ? {} : { error: errorOutcome(error) }) };
    };

    const existing = await this.options.store.getGroup(target);
    if (existing?.phase === 'restored') return done();
    try {
      await this.preflight(target, step, report);
    } catch (error) {
      this.throwIfStopped();
      return done(error);
    }
    try {
      await step('drain', () => this.options.steps.drain(target));
      if (!(await this.waitForDrain(target, report)))
        return done(new UpgradeStepError('DrainAborted', `calls did not end within ${target.maxDrainSeconds} s; the group was restored unchanged`));
      await step('deploy', () => this.options.steps.deploy(target));
      await this.waitForDeployment(target, report);
      await step('verify', () => this.options.steps.verify(target));
      await step('restore', () => this.options.steps.restore(target));
      return done();
    } catch (error) {
      this.throwIfStopped();
      // Another run of this upgrade moved the group on: it is in charge, and rolling back would undo its work.
      if (error instanceof PhaseConflictError) return done(new UpgradeStepError('LeaseHeld', `${errorText(error)}: another run of upgrade ${target.upgradeId} changed the group; stopped without rolling back`));
      report({ step: 'rollback', detail: errorText(error) });
      await this.withRetry(() => this.options.steps.rollback(target, errorText(error)));
      return done(error);
    }
  }

  /**
   * Preflight, waiting out the lease of an earlier run of this upgrade (a resume after a crash): that run
   * is gone once its lease expires unrenewed; a run still renewing it is alive, and this one is refused.
   */
  private async preflight(target: GroupUpgradeTarget, step: <T>(name: GroupUpgradeStepName, call: () => Promise<T>) => Promise<T>, report: Report): Promise<void> {
    for (;;) {
      try {
        return await step('preflight', () => this.options.steps.preflight(target));
      } catch (error) {
        if (!(error instanceof UpgradeStepError && error.code === 'LeaseHeld')) throw error;
        const held = await this.options.store.getLease(target.mediaServerId);
        if (held === undefined) continue;
        if (!isRunOf(held.owner, target.upgradeId) || held.owner === leaseOwner(target)) throw error;
        report({ step: 'preflight', detail: `waiting for the lease of an earlier run of upgrade ${target.upgradeId} to expire (${new Date(held.leaseUntil).toISOString()})` });
        await this.sleep(Math.max(0, held.leaseUntil - this.clock.now()) + this.pollMs, this.options.signal);
        const after = await this.options.store.getLease(target.mediaServerId);
        if (after !== undefined && (after.owner !== held.owner || after.leaseUntil !== held.leaseUntil)) {
          throw new UpgradeStepError('LeaseHeld', `upgrade ${target.upgradeId} is still running elsewhere (${after.owner} holds the lease of ${target.mediaServerId}); refusing a second run`);
        }
      }
    }
  }

  /** Polls until drained; false when the `abort` policy ended the drain. */
  private async waitForDrain(target: GroupUpgradeTarget, report: Report): Promise<boolean> {
    for (;;) {
      const check = await this.withRetry(() => this.options.steps.checkDrain(target));
      report({ step: 'checkDrain', remainingCalls: check.remainingCalls, timedOut: check.timedOut });
      if (check.drained) return true;
      if (check.timedOut && target.onDrainTimeout === 'abort') {
        report({ step: 'abortDrain' });
        await this.withRetry(() => this.options.steps.abortDrain(target));
        return false;
      }
      if (check.timedOut && target.onDrainTimeout === 'force') {
        report({ step: 'forceEndCalls', remainingCalls: check.remainingCalls });
        await this.withRetry(() => this.options.steps.forceEndCalls(target));
      }
      await this.pauseUntilGroupCallEnds(target);
    }
  }

  private async waitForDeployment(target: GroupUpgradeTarget, report: Report): Promise<void> {
    for (;;) {
      const check = await this.withRetry(() => this.options.steps.checkDeployment(target));
      report({ step: 'checkDeployment', detail: check.detail });
      if (check.complete) return;
      if (check.failed) throw new UpgradeStepError('DeploymentFailed', check.detail);
      await this.pause();
    }
  }

  private async withRetry<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.throwIfStopped();
      try {
        return await call();
      } catch (error) {
        if (attempt >= this.retry.attempts || !(error instanceof Error) || !TRANSIENT_ERRORS.has(error.name)) throw error;
        await this.sleep(this.retry.initialDelayMs * 2 ** (attempt - 1), this.options.signal);
      }
    }
  }

  private pause(): Promise<void> {
    return this.sleep(this.pollMs, this.options.signal);
  }

  private async pauseUntilGroupCallEnds(target: GroupUpgradeTarget): Promise<void> {
    const { groupCallEnded } = this.options;
    if (groupCallEnded === undefined) return this.pause();
    const stopListening = new AbortController();
    try {
      // A failed listener (the connection dropped) leaves the poll to wake the wait.
      await Promise.race([this.pause(), groupCallEnded(target.mediaServerId, target.groupId, stopListening.signal).catch(() => this.pause())]);
    } finally {
      stopListening.abort();
    }
  }

  private throwIfStopped(): void {
    this.options.signal?.throwIfAborted();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorOutcome(error: unknown): NonNullable<GroupOutcome['error']> {
  return { code: error instanceof UpgradeStepError ? error.code : 'Error', message: errorText(error) };
}

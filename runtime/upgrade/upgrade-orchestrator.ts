import { isDeepStrictEqual } from 'util';
import { systemClock, systemSleep, type Clock, type Sleep } from './clock';
import { mapWithConcurrency } from './concurrency-pool';
import type { FleetInventory } from './fleet-inventory';
import { planUpgrade, type MediaServerPlan } from './upgrade-plan';
import type { GroupOutcome, MediaServerOutcome, UpgradeProgress, UpgradeSummary } from './upgrade-progress';
import type { UpgradeRequest } from './upgrade-request';
import type { UpgradeStateStore } from './upgrade-state-store';
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
  readonly onProgress?: (progress: UpgradeProgress) => void;
  /** Stops the run between two steps (what stays behind is resumable); the run then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Attempts of a step failing with a transient error, as the state machine's Retry (default 6, from 500 ms doubling). */
  readonly retry?: { readonly attempts: number; readonly initialDelayMs: number };
}

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
  const plan = planUpgrade(options.request, options.inventory, options.upgradeId);
  const requestJson = JSON.stringify({ ...options.request, upgradeId: options.upgradeId });
  const stored = await options.store.ensureUpgrade(options.upgradeId, requestJson);
  if (!isDeepStrictEqual(JSON.parse(stored.request), JSON.parse(requestJson))) {
    throw new UpgradeStepError(
      'InvalidInput',
      `upgrade ${options.upgradeId} already exists with another request (${stored.request}); resume it with the same options or use a new id`,
    );
  }
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
    const report = (progress: Omit<UpgradeProgress, 'mediaServerId' | 'groupId' | 'elapsedMs'>): void =>
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
      await step('preflight', () => this.options.steps.preflight(target));
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
      report({ step: 'rollback', detail: errorText(error) });
      await this.withRetry(() => this.options.steps.rollback(target, errorText(error)));
      return done(error);
    }
  }

  /** Polls until drained; false when the `abort` policy ended the drain. */
  private async waitForDrain(target: GroupUpgradeTarget, report: (progress: Omit<UpgradeProgress, 'mediaServerId' | 'groupId' | 'elapsedMs'>) => void): Promise<boolean> {
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
      await this.pause();
    }
  }

  private async waitForDeployment(target: GroupUpgradeTarget, report: (progress: Omit<UpgradeProgress, 'mediaServerId' | 'groupId' | 'elapsedMs'>) => void): Promise<void> {
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

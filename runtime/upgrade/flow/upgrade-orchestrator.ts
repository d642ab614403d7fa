import { systemClock, systemSleep, type Clock, type Sleep } from '../../shared/clock';
import { mapWithConcurrency } from './concurrency-pool';
import type { FleetInventory } from '../inventory/fleet-inventory';
import {
  GROUP_UPGRADE_FLOW,
  RETRY_POLICY,
  catchOf,
  conditionHolds,
  readField,
  retryDelayCeilingMs,
  type FlowEnd,
  type FlowStateName,
  type FlowTask,
  type FlowWait,
} from './upgrade-flow';
import { newRunId } from '../request/upgrade-id';
import { planUpgrade, type MediaServerPlan } from './upgrade-plan';
import { registerUpgrade } from './upgrade-registration';
import type { GroupOutcome, MediaServerOutcome, UpgradeProgress, UpgradeSummary } from '../progress/upgrade-progress';
import type { UpgradeRequest } from '../request/upgrade-request';
import { PhaseConflictError, type UpgradeStateStore } from '../state/upgrade-state-store';
import {
  UpgradeStepError,
  type CanaryCheck,
  type DeploymentCheck,
  type DrainCheck,
  type EarlierRunLease,
  type GroupUpgradeStepName,
  type GroupUpgradeSteps,
  type GroupUpgradeTarget,
  type PreflightCheck,
} from './upgrade-steps';

/** Between two drain or deployment checks of `voiceplane upgrade` (drain waits are also woken by each hangup of the group). */
export const DEFAULT_POLL_MS = 1_000;

export interface RunUpgradeOptions {
  readonly request: UpgradeRequest;
  readonly inventory: FleetInventory;
  /** The same id resumes the upgrade from its stored phases. */
  readonly upgradeId: string;
  readonly steps: GroupUpgradeSteps;
  readonly store: UpgradeStateStore;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  /** Between two drain or deployment checks (default DEFAULT_POLL_MS). */
  readonly pollMs?: number;
  /**
   * Settles when a call of the group ends on the media server (or `signal` aborts): a drain wait then
   * checks again at once instead of at its next poll. Default: polls only.
   */
  readonly groupCallEnded?: (mediaServerId: string, groupId: string, signal: AbortSignal) => Promise<void>;
  readonly onProgress?: (progress: UpgradeProgress) => void;
  /** Stops the run between two steps (what stays behind is resumable); the run then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * The longest wait before the first retry of a transient error; later ones double, as in the flow's
   * RETRY_POLICY (default its 2 s). Tests shorten it.
   */
  readonly retryIntervalMs?: number;
}

/**
 * Runs an upgrade locally by interpreting the group flow the Step Functions state machine is generated
 * from (`upgrade-flow.ts`), over the same steps: media servers in parallel (at most `concurrency`), the
 * groups of one media server one after the other, a group that fails stopping the later groups of its
 * media server.
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

type Report = (progress: Omit<UpgradeProgress, 'mediaServerId' | 'groupId' | 'elapsedMs'>) => void;

/** The group's flow document, shaped as Step Functions holds it (see upgrade-flow.ts). */
interface FlowDocument {
  target: GroupUpgradeTarget;
  earlierRun: EarlierRunLease | null;
  preflight?: PreflightCheck;
  drain?: DrainCheck;
  deployment?: DeploymentCheck;
  canary?: CanaryCheck;
  rollback?: unknown;
  error?: { readonly Error: string; readonly Cause: string };
}

class MediaServerRunner {
  private readonly sleep: Sleep;
  private readonly pollMs: number;
  private readonly retryIntervalMs: number;

  constructor(private readonly options: RunUpgradeOptions, private readonly clock: Clock) {
    this.sleep = options.sleep ?? systemSleep;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.retryIntervalMs = options.retryIntervalMs ?? RETRY_POLICY.intervalSeconds * 1000;
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
    const done = async (error?: unknown): Promise<GroupOutcome> => {
      const record = await this.options.store.getGroup(target);
      const phase = record?.phase ?? 'pending';
      const drainSeconds = record?.drainedAt !== undefined && record.drainWrittenAt !== undefined ? (record.drainedAt - record.drainWrittenAt) / 1000 : undefined;
      report({ step: 'done', phase, ...(error === undefined ? {} : { detail: errorText(error) }) });
      return { groupId: target.groupId, phase, drainSeconds, forcedCalls: record?.forcedCalls ?? 0, ...(error === undefined ? {} : { error: errorOutcome(error) }) };
    };

    // Resuming an upgrade: a group already upgraded has nothing left to do (its steps would all find it done).
    if ((await this.options.store.getGroup(target))?.phase === 'restored') return done();
    const document: FlowDocument = { target, earlierRun: null };
    let caught: unknown;
    let name: FlowStateName = GROUP_UPGRADE_FLOW.startAt;
    for (;;) {
      const state = GROUP_UPGRADE_FLOW.states[name];
      switch (state.type) {
        case 'task':
          try {
            const result = await this.runTask(state, document, report);
            if (state.result !== undefined) document[state.result] = result as never;
            name = state.next;
          } catch (error) {
            this.throwIfStopped();
            const route = catchOf(state, errorName(error));
            if (route === undefined) return done(error);
            caught = error;
            document.error = { Error: errorName(error), Cause: errorText(error) };
            name = route.next;
          }
          break;
        case 'wait':
          await this.wait(state, document);
          name = state.next;
          break;
        case 'choice':
          name = state.choices.find((choice) => conditionHolds(choice.when, document as unknown as Record<string, unknown>))?.next ?? state.otherwise;
          break;
        case 'copy':
          document[state.to] = readField(document as unknown as Record<string, unknown>, state.from) as EarlierRunLease | null;
          name = state.next;
          break;
        case 'raise':
          caught = new UpgradeStepError(state.error, String(readField(document as unknown as Record<string, unknown>, state.causeFrom)));
          document.error = { Error: state.error, Cause: errorText(caught) };
          name = state.next;
          break;
        case 'end':
          return done(endError(state, caught, target));
      }
    }
  }

  /** Runs a task's step with the flow's retry policy, reporting progress as the CLI shows it. */
  private async runTask(state: FlowTask, document: FlowDocument, report: Report): Promise<unknown> {
    const { target } = document;
    const { steps } = this.options;
    const step = state.step;
    if (step === 'forceEndCalls') report({ step, remainingCalls: document.drain?.remainingCalls });
    else if (step === 'rollback') report({ step, detail: document.error?.Cause });
    else if (step !== 'checkDrain' && step !== 'checkDeployment' && step !== 'checkCanary') report({ step });
    const calls: Record<GroupUpgradeStepName, () => Promise<unknown>> = {
      preflight: () => steps.preflight(target, document.earlierRun),
      drain: () => steps.drain(target),
      checkDrain: () => steps.checkDrain(target),
      forceEndCalls: () => steps.forceEndCalls(target),
      abortDrain: () => steps.abortDrain(target),
      deploy: () => steps.deploy(target),
      checkDeployment: () => steps.checkDeployment(target),
      verify: () => steps.verify(target),
      openCanary: () => steps.openCanary(target),
      checkCanary: () => steps.checkCanary(target),
      restore: () => steps.restore(target),
      rollback: () => steps.rollback(target, document.error?.Cause ?? 'unknown failure'),
    };
    const result = await this.withRetry(calls[step]);
    if (step === 'checkDrain') {
      const check = result as DrainCheck;
      report({ step, remainingCalls: check.remainingCalls, timedOut: check.timedOut });
    } else if (step === 'checkDeployment') {
      report({ step, detail: (result as DeploymentCheck).detail });
    } else if (step === 'checkCanary') {
      const check = result as CanaryCheck;
      report({ step, canary: { status: check.status, step: check.step, share: check.share, calls: check.calls }, detail: check.detail });
    } else if (step === 'preflight' && !(result as PreflightCheck).ready) {
      const wait = result as Extract<PreflightCheck, { ready: false }>;
      if (wait.earlierRun !== null) report({ step, detail: `waiting for the lease of an earlier run of upgrade ${target.upgradeId} to expire (${new Date(wait.earlierRun.leaseUntil).toISOString()})` });
    }
    return result;
  }

  private async wait(state: FlowWait, document: FlowDocument): Promise<void> {
    if (state.until !== 'poll' && state.until !== 'firstPoll') {
      const until = Date.parse(String(readField(document as unknown as Record<string, unknown>, state.until)));
      return this.sleep(Math.max(0, until - this.clock.now()), this.options.signal);
    }
    if (!state.wakeOnGroupCallEnd) return this.pause();
    // Checked at once after the drain write: with no call left, the check says how long the settle has to run.
    if (state.until === 'firstPoll') return;
    // No call is left to hang up and wake the wait: it ends with the settle.
    const settlesInMs = document.drain?.settlesInMs;
    if (settlesInMs !== undefined && settlesInMs < this.pollMs) return this.sleep(settlesInMs, this.options.signal);
    return this.pauseUntilGroupCallEnds(document.target);
  }

  private async withRetry<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.throwIfStopped();
      try {
        return await call();
      } catch (error) {
        const ceilingMs = retryDelayCeilingMs(errorName(error), attempt, this.retryIntervalMs);
        if (ceilingMs === undefined) throw error;
        // Full jitter, as Step Functions' JitterStrategy FULL: runs retrying together spread out.
        await this.sleep(Math.random() * ceilingMs, this.options.signal);
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

/** What a group that ended in `end` reports: the error caught on the way there, or the end's own. */
function endError(end: FlowEnd, caught: unknown, target: GroupUpgradeTarget): unknown {
  if (end.outcome === 'upgraded') return undefined;
  if (end.error === 'GroupStopped') return stoppedError(caught, target);
  if (caught !== undefined) return caught;
  if (end.error === 'DrainAborted') return new UpgradeStepError('DrainAborted', `calls did not end within ${target.maxDrainSeconds} s; the group was restored unchanged`);
  return new Error(end.cause);
}

/** A stopped group reports `LeaseHeld`: another run holds the media server or moved the group on. */
function stoppedError(error: unknown, target: GroupUpgradeTarget): UpgradeStepError {
  if (error instanceof PhaseConflictError) return new UpgradeStepError('LeaseHeld', `${errorText(error)}: another run of upgrade ${target.upgradeId} changed the group; stopped without rolling back`);
  return new UpgradeStepError('LeaseHeld', `${errorText(error)}; stopped without rolling back`);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorOutcome(error: unknown): NonNullable<GroupOutcome['error']> {
  return { code: error instanceof UpgradeStepError ? error.code : 'Error', message: errorText(error) };
}

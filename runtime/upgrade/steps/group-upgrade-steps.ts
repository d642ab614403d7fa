import { errorMessage, type Logger } from '../../shared/logger';
import { activeGroups, DialplanError, encodeRouteTable, restoreGroup, setGroupShare, type RouteTable } from '../../dialplan';
import { MediaServerReplyError, MissingRouteTableError, RouteVerificationError } from '../../media-server';
import { systemClock, systemSleep, type Clock, type Sleep } from '../../shared/clock';
import type { DeployerResolver, GroupDeployer, Release } from '../deployers/deployer';
import { inventoryGroup, inventoryMediaServer, type FleetInventory } from '../inventory/fleet-inventory';
import { groupChannelUuids, hangUpChannel } from './group-channels';
import { parseGroupUpgradeTarget } from '../request/group-upgrade-target';
import { httpInstanceVerifier, type InstanceCheck, type InstanceVerifier } from './instance-verifier';
import { isRunOf, leaseOwner } from '../request/upgrade-id';
import type { MediaServerSession, MediaServerSessions } from './media-server-sessions';
import type { CanaryWatcher, GroupWatch } from './canary-watcher';
import { addObservation, canaryEvidenceSchema, evidenceObservation, NO_EVIDENCE, type CanaryEvidence } from './canary-evidence';
import { canaryVerdict, type CanaryPolicy } from '../canary';
import { DEFAULT_STEP_SETTINGS, type StepSettings } from './step-settings';
import { isPast, isTerminal, type AuditEvent, type GroupKey, type GroupRecord, type GroupRecordChanges } from '../state/upgrade-records';
import { CorruptStateError, type UpgradeStateStore } from '../state/upgrade-state-store';
import { describeIssues } from '../request/input-error';
import {
  UpgradeStepError,
  type CanaryCheck,
  type DeploymentCheck,
  type DrainCheck,
  type EarlierRunLease,
  type GroupUpgradePhase,
  type GroupUpgradeStepName,
  type PreflightCheck,
  type GroupUpgradeSteps,
  type GroupUpgradeTarget,
} from '../flow/upgrade-steps';

export interface GroupUpgradeStepsDeps {
  /** The media servers and groups the steps may touch; targets outside it are `InvalidInput`. */
  readonly inventory: FleetInventory;
  readonly store: UpgradeStateStore;
  readonly mediaServers: MediaServerSessions;
  readonly deployers: DeployerResolver;
  /** Default: GET /health with axios plus an outbound-ESL probe. */
  readonly verifier?: InstanceVerifier;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  /** Default: no logging. Passwords never reach it. */
  readonly log?: Logger;
  readonly settings?: Partial<StepSettings>;
  /** Watches canary groups' calls (`freeswitchCanaryWatcher`); without one, a canary upgrade is refused as invalid input. */
  readonly canaryWatcher?: CanaryWatcher;
  /**
   * `run`: one watch per canary step, held across checks by a long-lived process (the CLI). `check`: each check
   * watches for `canaryObserveMs` and stops (a Lambda invocation holds nothing between steps); the checks' sum
   * is judged. @default run
   */
  readonly canaryWatchScope?: 'run' | 'check';
}

const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Route-table failures the state machine routes (ESL connection problems stay transient and are retried). */
function isRouteFailure(error: unknown): error is Error {
  return error instanceof DialplanError || error instanceof RouteVerificationError || error instanceof MissingRouteTableError || error instanceof MediaServerReplyError;
}

/** Phases in which the group runs the release it had before the upgrade. */
const BEFORE_DEPLOY: readonly GroupUpgradePhase[] = ['draining', 'drained'];
const DEPLOY_STARTED: readonly GroupUpgradePhase[] = ['deploying', 'deployed', 'verified', 'canary'];

const READY: PreflightCheck = { ready: true };

interface HeldWatch {
  readonly watch: GroupWatch;
  /** The step's evidence before this watch started. */
  readonly since: CanaryEvidence;
}

/** When a step counts as already run, and what it needs otherwise. */
interface StepRule {
  /** The step ran once the group is past this phase (`terminal`: once its upgrade ended). */
  readonly ranOnce: GroupUpgradePhase | 'terminal';
  readonly needs: readonly GroupUpgradePhase[];
  /** Further checks on the record before the step may run; throw to refuse. */
  readonly check?: (record: GroupRecord, target: GroupUpgradeTarget) => void;
}

interface StepOpening {
  readonly target: GroupUpgradeTarget;
  readonly key: GroupKey;
  readonly record: GroupRecord;
  readonly alreadyRan: boolean;
}

/** The steps of upgrading one group of one media server, on the inventory's media servers and deployers. */
export function createGroupUpgradeSteps(deps: GroupUpgradeStepsDeps): GroupUpgradeSteps {
  return new Steps(deps);
}

class Steps implements GroupUpgradeSteps {
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly log: Logger;
  private readonly settings: StepSettings;
  private readonly verifier: InstanceVerifier;
  private readonly leasesRenewedAt = new Map<string, number>();
  /** The watch of each group whose canary step this process watches now, and the evidence saved before it started. */
  private readonly canaryWatches = new Map<string, HeldWatch>();
  private readonly canaryWatchScope: 'run' | 'check';

  constructor(private readonly deps: GroupUpgradeStepsDeps) {
    this.clock = deps.clock ?? systemClock;
    this.sleep = deps.sleep ?? systemSleep;
    this.log = deps.log ?? silentLogger;
    this.settings = { ...DEFAULT_STEP_SETTINGS, ...deps.settings };
    this.verifier = deps.verifier ?? httpInstanceVerifier();
    this.canaryWatchScope = deps.canaryWatchScope ?? 'run';
  }

  async preflight(input: GroupUpgradeTarget, earlierRun: EarlierRunLease | null = null): Promise<PreflightCheck> {
    const target = this.parse(input);
    const key = keyOf(target);
    // Read together: a group not started yet (every group of a fresh run) needs both.
    const [existing, upgrade] = await Promise.all([this.deps.store.getGroup(key), this.deps.store.getUpgrade(target.upgradeId)]);
    const haltedBy = existing === undefined || existing.phase === 'pending' ? upgrade?.haltedBy : undefined;
    if (haltedBy !== undefined) throw new UpgradeStepError('PreflightFailed', `${describe(target)} not started: upgrade ${target.upgradeId} was halted (${haltedBy})`);
    if (existing !== undefined && (existing.phase === 'failed' || existing.phase === 'rolled-back')) {
      throw new UpgradeStepError('PreflightFailed', `${describe(target)} already ended ${existing.phase} in upgrade ${target.upgradeId}: ${existing.failure ?? 'no reason recorded'}; start a new upgrade`);
    }
    if (existing !== undefined && existing.phase !== 'pending') {
      return isTerminal(existing.phase) ? READY : ((await this.waitForEarlierRun(target, earlierRun)) ?? READY);
    }
    const wait = await this.waitForEarlierRun(target, earlierRun);
    if (wait !== undefined) return wait;
    try {
      const record = existing ?? (await this.deps.store.ensureGroup(key, release(target)));
      const { carrier, previous } = await this.preflightChecks(target);
      await this.advance(key, record.phase, 'preflight-passed', { previousImage: previous.image, previousVersion: previous.version });
      await this.audit(key, { type: 'preflight', ok: true, detail: `${carrier}; ${target.groupId} runs ${previous.image}:${previous.version}` });
      this.log.info('preflight passed', { ...fields(target), carrier });
      return READY;
    } catch (error) {
      await this.releaseLease(target);
      if (error instanceof UpgradeStepError && error.code === 'PreflightFailed') {
        await this.audit(key, { type: 'preflight', ok: false, detail: error.message });
        // Best effort: the refusal is what the caller must see, even if recording it fails.
        await this.deps.store.updateGroup(key, ['pending'], { failure: error.message }, 'failed').catch(() => undefined);
      }
      throw error;
    }
  }

  async drain(input: GroupUpgradeTarget): Promise<void> {
    const opening = await this.open(input, 'drain', { ranOnce: 'draining', needs: ['preflight-passed', 'draining'] });
    if (opening.alreadyRan) return;
    const { target, key } = opening;
    let { record } = opening;
    if (record.phase === 'preflight-passed') record = await this.advance(key, 'preflight-passed', 'draining', { drainStartedAt: this.clock.now() });
    if (record.drainWrittenAt !== undefined) return;
    const startedAt = this.clock.now();
    const table = await this.writeRoutes(target, 'drain');
    // Audit before marking the drain written: an orchestrator stopped in between writes the (idempotent)
    // drain again on resume and records it, so the trail never misses a route change.
    await this.audit(key, { type: 'route-change', action: 'drain', table: encodeRouteTable(table), startedAt });
    await this.deps.store.updateGroup(key, ['draining'], { drainWrittenAt: this.clock.now() });
    this.log.info('group drained in the route table', fields(target));
  }

  async checkDrain(input: GroupUpgradeTarget): Promise<DrainCheck> {
    const { target, key, record, alreadyRan } = await this.open(input, 'checkDrain', { ranOnce: 'draining', needs: ['draining'], check: requireDrainWritten });
    if (alreadyRan) {
      return { remainingCalls: 0, elapsedSeconds: seconds((record.drainedAt ?? 0) - (record.drainWrittenAt ?? 0)), drained: true, timedOut: false };
    }
    const drainWrittenAt = requireDrainWritten(record);
    const { table, count } = await this.deps.mediaServers.use(target.mediaServerId, async (session) => ({
      table: await session.client.routes(),
      count: await session.client.groupCallCount(target.groupId),
    }));
    const entry = table?.groups.find((group) => group.id === target.groupId);
    if (entry?.state !== 'drained') {
      throw new UpgradeStepError('RouteWriteFailed', `${describe(target)} is ${entry === undefined ? 'missing from' : 'active again in'} the route table during its drain: someone else changed the routes`);
    }
    const now = this.clock.now();
    const elapsedMs = now - drainWrittenAt;
    const drained = count === 0 && elapsedMs >= this.settings.drainSettleMs;
    const timedOut = !drained && elapsedMs >= target.maxDrainSeconds * 1000;
    const settling = count === 0 && !drained;
    const check: DrainCheck = {
      remainingCalls: count,
      elapsedSeconds: seconds(elapsedMs),
      drained,
      timedOut,
      ...(settling ? { settlesInMs: this.settings.drainSettleMs - elapsedMs } : {}),
    };
    const firstTimeout = timedOut && record.timedOutAt === undefined;
    const sample =
      drained || firstTimeout || record.lastSampleAt === undefined || record.lastCount !== count || now - record.lastSampleAt >= this.settings.drainSampleIntervalMs;
    const changes: GroupRecordChanges = { lastCount: count, lastSampleAt: now, ...(firstTimeout ? { timedOutAt: now } : {}) };
    if (sample) await this.audit(key, { type: 'drain-count', remaining: count, elapsedSeconds: check.elapsedSeconds, timedOut });
    if (firstTimeout) this.log.warn('drain timed out', { ...fields(target), remainingCalls: count, policy: target.onDrainTimeout });
    if (drained) await this.advance(key, 'draining', 'drained', { ...changes, drainedAt: now });
    else if (sample) await this.deps.store.updateGroup(key, ['draining'], changes);
    return check;
  }

  async forceEndCalls(input: GroupUpgradeTarget): Promise<number> {
    const opening = await this.open(input, 'forceEndCalls', {
      ranOnce: 'draining',
      needs: ['draining'],
      check: (record, target) => {
        const drainWrittenAt = requireDrainWritten(record);
        if (target.onDrainTimeout !== 'force') throw new UpgradeStepError('InvalidInput', `${describe(target)}: onDrainTimeout is ${target.onDrainTimeout}, not force: refusing to hang up calls`);
        const elapsedMs = this.clock.now() - drainWrittenAt;
        if (elapsedMs < target.maxDrainSeconds * 1000) {
          throw new UpgradeStepError('InvalidInput', `${describe(target)}: only ${seconds(elapsedMs)} of ${target.maxDrainSeconds} drain seconds have passed: refusing to hang up live calls`);
        }
      },
    });
    if (opening.alreadyRan) return 0;
    const { target, key, record } = opening;
    const cause = this.settings.forceHangupCause;
    const ended = await this.deps.mediaServers.use(target.mediaServerId, async (session) => {
      const uuids = await groupChannelUuids(session, target.groupId);
      const hungUp: string[] = [];
      for (const uuid of uuids) if (await hangUpChannel(session, uuid, cause)) hungUp.push(uuid);
      return hungUp;
    });
    for (const uuid of ended) await this.audit(key, { type: 'force-end', uuid, cause });
    await this.deps.store.updateGroup(key, ['draining'], { forcedCalls: (record.forcedCalls ?? 0) + ended.length });
    this.log.warn('hung up calls still on the group after the drain limit', { ...fields(target), calls: ended.length, cause });
    return ended.length;
  }

  async abortDrain(input: GroupUpgradeTarget): Promise<void> {
    const { target, key, record, alreadyRan } = await this.open(input, 'abortDrain', { ranOnce: 'terminal', needs: BEFORE_DEPLOY });
    if (alreadyRan) return;
    await this.restoreRoutes(target);
    const failure = `DrainAborted: calls did not end within ${target.maxDrainSeconds} s (${record.lastCount ?? 'unknown'} left); the group was restored unchanged`;
    await this.advance(key, record.phase, 'failed', { failure });
    await this.releaseLease(target);
    this.log.warn('drain aborted, group restored', fields(target));
  }

  async deploy(input: GroupUpgradeTarget): Promise<void> {
    const opening = await this.open(input, 'deploy', { ranOnce: 'deploying', needs: ['drained', 'deploying'] });
    if (opening.alreadyRan) return;
    const { target, key } = opening;
    let { record } = opening;
    if (record.phase === 'drained') record = await this.advance(key, 'drained', 'deploying', { deployStartedAt: this.clock.now() });
    if (record.deploymentId !== undefined) return;
    const deploymentId = await this.deployer(target).start(release(target));
    await this.deps.store.updateGroup(key, ['deploying'], { deploymentId });
    await this.audit(key, { type: 'deploy', ...release(target), status: 'started', detail: deploymentId });
    this.log.info('deployment started', { ...fields(target), deploymentId });
  }

  async checkDeployment(input: GroupUpgradeTarget): Promise<DeploymentCheck> {
    const { target, key, record, alreadyRan } = await this.open(input, 'checkDeployment', { ranOnce: 'deploying', needs: ['deploying'], check: requireDeploymentStarted });
    if (alreadyRan) return { complete: true, failed: false, detail: `already ${record.phase}` };
    const check = await this.deployer(target).status(requireDeploymentStarted(record));
    if (check.complete) {
      await this.advance(key, 'deploying', 'deployed', { deployedAt: this.clock.now() });
      await this.audit(key, { type: 'deploy', ...release(target), status: 'complete', detail: check.detail });
    } else if (check.failed) {
      await this.audit(key, { type: 'deploy', ...release(target), status: 'failed', detail: check.detail });
    }
    return check;
  }

  async verify(input: GroupUpgradeTarget): Promise<void> {
    const { target, key, alreadyRan } = await this.open(input, 'verify', { ranOnce: 'deployed', needs: ['deployed'] });
    if (alreadyRan) return;
    const problem = await this.verifyRelease(target, target.version);
    if (problem !== undefined) throw new UpgradeStepError('VerificationFailed', `${describe(target)} ${target.version}: ${problem}`);
    await this.advance(key, 'deployed', 'verified', { verifiedAt: this.clock.now() });
  }

  async openCanary(input: GroupUpgradeTarget): Promise<void> {
    const opening = await this.open(input, 'openCanary', { ranOnce: 'verified', needs: ['deployed', 'verified'], check: (_record, target) => requireCanaryPolicy(target) });
    if (opening.alreadyRan) return;
    const { target, key } = opening;
    if (opening.record.phase === 'deployed') {
      const problem = await this.verifyRelease(target, target.version);
      if (problem !== undefined) throw new UpgradeStepError('VerificationFailed', `${describe(target)} ${target.version}: ${problem}`);
      await this.advance(key, 'deployed', 'verified', { verifiedAt: this.clock.now() });
    }
    // In the canary phase before its first share is written: whatever stops the flow now backs the group out before any redeploy.
    await this.advance(key, 'verified', 'canary', { canaryStep: 0 });
    await this.beginCanaryStep(target, 0);
  }

  async checkCanary(input: GroupUpgradeTarget): Promise<CanaryCheck> {
    const { target, key, record, alreadyRan } = await this.open(input, 'checkCanary', { ranOnce: 'canary', needs: ['canary'], check: (_record, target) => requireCanaryPolicy(target) });
    const policy = requireCanaryPolicy(target);
    const lastStep = policy.steps.length - 1;
    if (alreadyRan || record.canaryPassedAt !== undefined) return { status: 'passed', step: lastStep, share: policy.steps[lastStep], calls: 0, detail: 'every canary step passed' };
    if (record.canaryFailedAt !== undefined) return this.checkCanaryBackout(target, record);
    const step = record.canaryStep ?? 0;
    const share = policy.steps[step];
    // A step whose share was never written (stopped in between) begins now.
    if (record.canaryStepStartedAt === undefined) {
      await this.beginCanaryStep(target, step);
      return { status: 'holding', step, share, calls: 0, detail: `canary step ${step + 1} (${share} %) begins` };
    }
    await this.requireCanaryShare(target, share);
    const evidence = await this.watchCanaryStep(target, record);
    const now = this.clock.now();
    const heldMs = now - record.canaryStepStartedAt;
    const verdict = canaryVerdict(policy, evidenceObservation(evidence, target.groupId, record.canaryStepStartedAt, now, policy.thresholds.shortCallSeconds), heldMs);
    const calls = evidence.counts.calls;
    const heldSeconds = seconds(heldMs);
    if (verdict.outcome === 'hold') {
      const saved = JSON.stringify(evidence);
      if (saved !== record.canaryEvidence) await this.deps.store.updateGroup(key, ['canary'], { canaryEvidence: saved });
      return { status: 'holding', step, share, calls, detail: verdict.reasons.join('; ') };
    }
    await this.stopCanaryWatch(target);
    await this.audit(key, { type: 'canary', step, share, verdict: verdict.outcome, calls, heldSeconds, reasons: [...verdict.reasons] });
    if (verdict.outcome === 'fail') {
      const failure = `canary step ${step + 1} (${share} % of new calls) failed after ${heldSeconds} s and ${calls} call(s): ${verdict.reasons.join('; ')}`;
      return this.failCanary(target, failure);
    }
    if (step === lastStep) {
      await this.deps.store.updateGroup(key, ['canary'], { canaryPassedAt: this.clock.now(), canaryEvidence: JSON.stringify(evidence) });
      this.log.info('canary passed', { ...fields(target), steps: policy.steps.join(',') });
      return { status: 'passed', step, share, calls, detail: `canary step ${step + 1} (${share} %) passed: every step passed` };
    }
    await this.beginCanaryStep(target, step + 1);
    return { status: 'holding', step: step + 1, share: policy.steps[step + 1], calls: 0, detail: `canary step ${step + 1} (${share} %) passed after ${heldSeconds} s and ${calls} call(s)` };
  }

  async restore(input: GroupUpgradeTarget): Promise<void> {
    const { target, key, record, alreadyRan } = await this.open(input, 'restore', {
      ranOnce: 'canary',
      needs: ['verified', 'canary'],
      check: (current) => {
        if (current.phase === 'canary' && current.canaryPassedAt === undefined) throw new UpgradeStepError('InvalidInput', `group ${current.groupId} of ${current.mediaServerId}: its canary has not passed`);
      },
    });
    if (alreadyRan) return;
    if (record.phase === 'canary') await this.writeShare(target, undefined);
    else await this.restoreRoutes(target);
    await this.advance(key, record.phase, 'restored', { restoredAt: this.clock.now() });
    await this.releaseLease(target);
    this.log.info('group upgraded and restored', fields(target));
  }

  async rollback(input: GroupUpgradeTarget, cause: string): Promise<GroupUpgradePhase> {
    const target = this.parse(input);
    const key = keyOf(target);
    const record = await this.deps.store.getGroup(key);
    if (record === undefined) return 'failed';
    if (isTerminal(record.phase)) return record.phase;
    this.log.warn('rolling back', { ...fields(target), phase: record.phase, cause });
    let outcome: { phase: 'rolled-back' | 'failed'; detail: string };
    try {
      await this.renewLease(target);
      outcome = await this.rollBackFrom(target, record);
    } catch (error) {
      outcome = { phase: 'failed', detail: `rollback stopped: ${errorMessage(error)}; the group is left as it was (${record.phase})` };
    }
    const current = (await this.deps.store.getGroup(key)) ?? record;
    if (!isTerminal(current.phase)) await this.advance(key, current.phase, outcome.phase, { failure: `${cause} (${outcome.detail})` });
    await this.audit(key, { type: 'rollback', cause, outcome: outcome.phase, detail: outcome.detail });
    await this.releaseLease(target);
    this.log.warn('rollback finished', { ...fields(target), outcome: outcome.phase, detail: outcome.detail });
    return outcome.phase;
  }

  /** Why a rollback ended as it did; throws only for failures it cannot describe better. */
  private async rollBackFrom(target: GroupUpgradeTarget, record: GroupRecord): Promise<{ phase: 'rolled-back' | 'failed'; detail: string }> {
    if (record.phase === 'pending' || record.phase === 'preflight-passed') return { phase: 'failed', detail: 'nothing was changed' };
    const previous = record.previousImage !== undefined && record.previousVersion !== undefined ? { image: record.previousImage, version: record.previousVersion } : undefined;
    if (record.phase === 'canary' && record.canaryDrainedAt === undefined) {
      const stillOn = await this.backOutForRollback(target, record);
      if (stillOn !== undefined) return { phase: 'failed', detail: `${stillOn}; the group is left drained on ${target.version}, not redeployed while calls are on it` };
    }
    if (DEPLOY_STARTED.includes(record.phase)) {
      if (previous === undefined) return { phase: 'failed', detail: 'the previous release is unknown; the group is left drained' };
      const redeployed = await this.redeploy(target, record, previous);
      if (redeployed !== undefined) return { phase: 'failed', detail: `${redeployed}; the group is left drained` };
    }
    const unhealthy = await this.verifyRelease(target, previous?.version);
    if (unhealthy !== undefined) return { phase: 'failed', detail: `the previous release is not healthy (${unhealthy}); the group is left drained` };
    await this.restoreRoutes(target);
    return { phase: 'rolled-back', detail: previous === undefined ? 'the route was restored' : `back on ${previous.version}, the route was restored` };
  }

  /** Deploys `previous` and waits for it (resuming a rollback deployment already started); a problem, or undefined. */
  private async redeploy(target: GroupUpgradeTarget, record: GroupRecord, previous: Release): Promise<string | undefined> {
    const key = keyOf(target);
    const deployer = this.deployer(target);
    let deploymentId = record.rollbackDeploymentId;
    let startedAt = record.rollbackStartedAt;
    if (deploymentId === undefined || startedAt === undefined) {
      startedAt = this.clock.now();
      deploymentId = await deployer.start(previous);
      await this.deps.store.updateGroup(key, [record.phase], { rollbackStartedAt: startedAt, rollbackDeploymentId: deploymentId });
      await this.audit(key, { type: 'deploy', ...previous, status: 'started', detail: `rollback: ${deploymentId}` });
    }
    for (;;) {
      const check = await deployer.status(deploymentId);
      if (check.complete || check.failed) {
        await this.audit(key, { type: 'deploy', ...previous, status: check.complete ? 'complete' : 'failed', detail: `rollback: ${check.detail}` });
        return check.failed ? `redeploying ${previous.version} failed: ${check.detail}` : undefined;
      }
      if (this.clock.now() - startedAt >= this.settings.rollbackTimeoutMs) return `redeploying ${previous.version} did not finish within ${seconds(this.settings.rollbackTimeoutMs)} s: ${check.detail}`;
      await this.renewLease(target);
      await this.sleep(this.settings.rollbackPollMs);
    }
  }

  private async preflightChecks(target: GroupUpgradeTarget): Promise<{ carrier: string; previous: Release }> {
    const table = await this.deps.mediaServers.use(target.mediaServerId, (session) => session.client.routes());
    const fail = (problem: string): never => {
      throw new UpgradeStepError('PreflightFailed', `${describe(target)}: ${problem}`);
    };
    if (table === undefined) return fail('the media server has no route table');
    const entry = table.groups.find((group) => group.id === target.groupId);
    if (entry === undefined) return fail(`not in the media server's route table (groups: ${table.groups.map((group) => group.id).join(', ')})`);
    if (entry.state === 'drained') return fail('already drained in the route table (by someone else): restore it first, or leave it out of the upgrade');
    const others = activeGroups(table).filter((group) => group.id !== target.groupId);
    if (others.length === 0) return fail('no other active group: draining it would leave no routable group');
    const carrier = await this.healthyCarrier(target, others.map((group) => group.id));
    if (typeof carrier !== 'string') return fail(`no other active group is healthy (${carrier.problems.join('; ')})`);
    return { carrier, previous: await this.deployer(target).current() };
  }

  /** The first other active group with a healthy member, described; else why each one is not. */
  private async healthyCarrier(target: GroupUpgradeTarget, groupIds: readonly string[]): Promise<string | { problems: string[] }> {
    const known = new Set(inventoryMediaServer(this.deps.inventory, target.mediaServerId).groups.map((group) => group.id));
    const problems: string[] = [];
    for (const groupId of groupIds) {
      if (!known.has(groupId)) {
        problems.push(`${groupId}: not in the fleet inventory, its health is unknown`);
        continue;
      }
      const instances = await this.deps.deployers(target.mediaServerId, groupId).instances();
      const checks = await Promise.all(instances.map((instance) => this.verifier.check(instance, { groupId })));
      const healthy = checks.filter((check) => check.ok);
      if (healthy.length > 0) return `group ${groupId} carries the calls (${healthy.length}/${checks.length} members healthy)`;
      problems.push(`${groupId}: ${checks.length === 0 ? 'no running member' : checks.map((check) => check.detail).join(', ')}`);
    }
    return { problems };
  }

  /** Checks every member runs `version` (any, when undefined) and takes calls; records each result. Undefined when all pass. */
  private async verifyRelease(target: GroupUpgradeTarget, version: string | undefined): Promise<string | undefined> {
    let checks: InstanceCheck[] = [];
    for (let attempt = 1; attempt <= this.settings.verifyAttempts; attempt++) {
      const instances = await this.deployer(target).instances();
      checks = await Promise.all(instances.map((instance) => this.verifier.check(instance, { groupId: target.groupId, version })));
      if (checks.length > 0 && checks.every((check) => check.ok)) break;
      if (attempt < this.settings.verifyAttempts) await this.sleep(this.settings.verifyRetryMs);
    }
    for (const check of checks) await this.audit(keyOf(target), { type: 'health', instance: check.instance.id, ok: check.ok, detail: check.detail });
    if (checks.length === 0) return 'no running member';
    const failing = checks.filter((check) => !check.ok);
    return failing.length === 0 ? undefined : failing.map((check) => `${check.instance.id}: ${check.detail}`).join('; ');
  }

  private async writeRoutes(target: GroupUpgradeTarget, action: 'drain' | 'restore'): Promise<RouteTable> {
    return this.routeWrite(target, action, (client) => (action === 'drain' ? client.drain(target.groupId) : client.restore(target.groupId)));
  }

  private async routeWrite(target: GroupUpgradeTarget, action: string, write: (client: MediaServerSession['client']) => Promise<RouteTable>): Promise<RouteTable> {
    try {
      return await this.deps.mediaServers.use(target.mediaServerId, (session) => write(session.client));
    } catch (error) {
      if (isRouteFailure(error)) throw new UpgradeStepError('RouteWriteFailed', `${describe(target)}: ${action}: ${error.message}`);
      throw error;
    }
  }

  /** Gives the group `share` percent of new calls (undefined: its full reference), as a verified and audited route write. */
  private async writeShare(target: GroupUpgradeTarget, share: number | undefined): Promise<void> {
    const startedAt = this.clock.now();
    const table = await this.routeWrite(target, share === undefined ? 'restore' : `share ${share} %`, (client) => (share === undefined ? client.setShare(target.groupId, undefined) : this.shareWrite(client, target.groupId, share)));
    await this.audit(keyOf(target), { type: 'route-change', action: share === undefined ? 'restore' : 'share', table: encodeRouteTable(table), startedAt });
  }

  /** One write: a drained group comes back already holding its share (restored first, it would take every call it is tried first for). */
  private async shareWrite(client: MediaServerSession['client'], groupId: string, share: number): Promise<RouteTable> {
    const table = await client.routes();
    if (table === undefined) throw new DialplanError('the media server has no route table');
    return client.setRoutes(setGroupShare(restoreGroup(table, groupId), groupId, share));
  }

  /**
   * Starts a canary step: watches the group's calls, then gives it the step's share (the watch first, so it misses
   * none of the calls the share brings), and records when the step began.
   */
  private async beginCanaryStep(target: GroupUpgradeTarget, step: number): Promise<void> {
    const policy = requireCanaryPolicy(target);
    const key = keyOf(target);
    await this.stopCanaryWatch(target);
    if (this.canaryWatchScope === 'run') await this.startCanaryWatch(target, NO_EVIDENCE);
    try {
      await this.writeShare(target, policy.steps[step]);
      await this.deps.store.updateGroup(key, ['canary'], { canaryStep: step, canaryStepStartedAt: this.clock.now(), canaryEvidence: JSON.stringify(NO_EVIDENCE) });
    } catch (error) {
      await this.stopCanaryWatch(target);
      throw error;
    }
    await this.audit(key, { type: 'canary', step, share: policy.steps[step], verdict: 'start', calls: 0, heldSeconds: 0, reasons: [] });
    this.log.info('canary step begins', { ...fields(target), step: step + 1, share: policy.steps[step] });
  }

  /**
   * A failed canary: its share goes to 0 at once, then the group is drained (no new call reaches it; its calls in
   * progress end naturally), and no further group of the upgrade starts: the version is bad.
   */
  private async failCanary(target: GroupUpgradeTarget, failure: string): Promise<CanaryCheck> {
    const key = keyOf(target);
    await this.withdrawCanary(target);
    await this.deps.store.haltUpgrade(target.upgradeId, `the canary of ${describe(target)} failed`);
    const failed = await this.deps.store.updateGroup(key, ['canary'], { canaryFailedAt: this.clock.now(), canaryFailure: failure });
    this.log.warn('canary failed: share 0, group drained, upgrade halted', { ...fields(target), failure });
    return this.checkCanaryBackout(target, failed);
  }

  /** Share 0, then drained, each a verified and audited route write; what is already done is skipped (a retry). */
  private async withdrawCanary(target: GroupUpgradeTarget): Promise<void> {
    const table = await this.deps.mediaServers.use(target.mediaServerId, (session) => session.client.routes());
    const entry = table?.groups.find((group) => group.id === target.groupId);
    if (entry?.state !== 'active') return;
    if (entry.share !== 0) await this.writeShare(target, 0);
    const startedAt = this.clock.now();
    const drained = await this.writeRoutes(target, 'drain');
    await this.audit(keyOf(target), { type: 'route-change', action: 'drain', table: encodeRouteTable(drained), startedAt });
  }

  /** The group still takes the step's share of new calls; else someone else changed the routes, and the canary stops. */
  private async requireCanaryShare(target: GroupUpgradeTarget, share: number): Promise<void> {
    const table = await this.deps.mediaServers.use(target.mediaServerId, (session) => session.client.routes());
    const entry = table?.groups.find((group) => group.id === target.groupId);
    if (entry?.state === 'active' && entry.share === share) return;
    const now = entry === undefined ? 'missing from the route table' : entry.state === 'drained' ? 'drained' : `at ${entry.share === undefined ? 'its full reference' : `${entry.share} %`}`;
    throw new UpgradeStepError('RouteWriteFailed', `${describe(target)} is ${now} during its canary step at ${share} %: someone else changed the routes`);
  }

  /**
   * What the step has seen so far: the evidence saved in the record plus what a watch saw since. A `run` scope
   * keeps its watch across checks (a watch is started again from the saved evidence in a process that has none,
   * e.g. a resumed run); a `check` scope watches for `canaryObserveMs` and stops.
   */
  private async watchCanaryStep(target: GroupUpgradeTarget, record: GroupRecord): Promise<CanaryEvidence> {
    const held = this.canaryWatches.get(watchKey(target)) ?? (await this.startCanaryWatch(target, savedEvidence(record)));
    if (this.canaryWatchScope === 'run') return addObservation(held.since, held.watch.observation());
    try {
      await this.sleep(this.settings.canaryObserveMs);
      return addObservation(held.since, held.watch.observation());
    } finally {
      await this.stopCanaryWatch(target);
    }
  }

  private async startCanaryWatch(target: GroupUpgradeTarget, since: CanaryEvidence): Promise<HeldWatch> {
    if (this.deps.canaryWatcher === undefined) throw new UpgradeStepError('InvalidInput', `${describe(target)}: these steps were built without a canary watcher`);
    const watch = await this.deps.canaryWatcher.watch(target, requireCanaryPolicy(target), await this.healthUrls(target));
    const held = { watch, since };
    this.canaryWatches.set(watchKey(target), held);
    return held;
  }

  private async stopCanaryWatch(target: GroupUpgradeTarget): Promise<void> {
    const held = this.canaryWatches.get(watchKey(target));
    this.canaryWatches.delete(watchKey(target));
    await held?.watch.stop();
  }

  private async healthUrls(target: GroupUpgradeTarget): Promise<string[]> {
    return (await this.deployer(target).instances()).map((instance) => instance.healthUrl);
  }

  /** A failed canary's calls, counted from FreeSWITCH until none is left (after the settle delay). */
  private async checkCanaryBackout(target: GroupUpgradeTarget, record: GroupRecord): Promise<CanaryCheck> {
    const key = keyOf(target);
    const policy = requireCanaryPolicy(target);
    const step = record.canaryStep ?? 0;
    const failure = record.canaryFailure ?? 'the canary failed';
    if (record.canaryDrainedAt !== undefined) return { status: 'backed-out', step, share: 0, calls: 0, detail: failure };
    const count = await this.deps.mediaServers.use(target.mediaServerId, (session) => session.client.groupCallCount(target.groupId));
    const now = this.clock.now();
    const elapsedMs = now - (record.canaryFailedAt ?? now);
    if (count === 0 && elapsedMs >= this.settings.drainSettleMs) {
      await this.deps.store.updateGroup(key, ['canary'], { canaryDrainedAt: now, lastCount: 0, lastSampleAt: now });
      await this.audit(key, { type: 'canary', step, share: policy.steps[step], verdict: 'backed-out', calls: 0, heldSeconds: seconds(elapsedMs), reasons: [failure] });
      return { status: 'backed-out', step, share: 0, calls: 0, detail: failure };
    }
    if (record.lastCount !== count || record.lastSampleAt === undefined || now - record.lastSampleAt >= this.settings.drainSampleIntervalMs) {
      await this.audit(key, { type: 'drain-count', remaining: count, elapsedSeconds: seconds(elapsedMs), timedOut: elapsedMs >= target.maxDrainSeconds * 1000 });
      await this.deps.store.updateGroup(key, ['canary'], { lastCount: count, lastSampleAt: now });
    }
    return { status: 'backing-out', step, share: 0, calls: count, detail: failure };
  }

  /**
   * A rollback reached in the canary phase by another failure (a route write refused, the store unreachable): the
   * group is withdrawn as a failed canary would be and its calls waited for (within the rollback's time) before any
   * redeploy. Undefined once none is left; else why the group cannot be redeployed now.
   */
  private async backOutForRollback(target: GroupUpgradeTarget, record: GroupRecord): Promise<string | undefined> {
    await this.stopCanaryWatch(target);
    await this.withdrawCanary(target);
    const startedAt = this.clock.now();
    for (;;) {
      const count = await this.deps.mediaServers.use(target.mediaServerId, (session) => session.client.groupCallCount(target.groupId));
      const elapsedMs = this.clock.now() - startedAt;
      if (count === 0 && elapsedMs >= this.settings.drainSettleMs) {
        await this.deps.store.updateGroup(keyOf(target), [record.phase], { canaryDrainedAt: this.clock.now() });
        return undefined;
      }
      if (elapsedMs >= this.settings.rollbackTimeoutMs) return `${count} call(s) still on the group after ${seconds(elapsedMs)} s`;
      await this.renewLease(target);
      await this.sleep(this.settings.rollbackPollMs);
    }
  }

  private async restoreRoutes(target: GroupUpgradeTarget): Promise<void> {
    const startedAt = this.clock.now();
    const table = await this.writeRoutes(target, 'restore');
    await this.audit(keyOf(target), { type: 'route-change', action: 'restore', table: encodeRouteTable(table), startedAt });
  }

  private parse(input: GroupUpgradeTarget): GroupUpgradeTarget {
    const target = parseGroupUpgradeTarget(input);
    inventoryGroup(this.deps.inventory, target.mediaServerId, target.groupId);
    return target;
  }

  private deployer(target: GroupUpgradeTarget): GroupDeployer {
    return this.deps.deployers(target.mediaServerId, target.groupId);
  }

  /**
   * The opening of every step after preflight: parses the target, loads the group's record and tells
   * whether the step already ran (a retry, a resumed run); if not, checks the phase (and `check`) and
   * renews the lease.
   */
  private async open(input: GroupUpgradeTarget, step: GroupUpgradeStepName, rule: StepRule): Promise<StepOpening> {
    const target = this.parse(input);
    const key = keyOf(target);
    const record = await this.deps.store.getGroup(key);
    if (record === undefined) throw new UpgradeStepError('InvalidInput', `${describe(target)} has no state in upgrade ${target.upgradeId}: run preflight first`);
    const alreadyRan = rule.ranOnce === 'terminal' ? isTerminal(record.phase) : alreadyPast(record, rule.ranOnce);
    if (!alreadyRan) {
      requirePhase(record, rule.needs, step);
      rule.check?.(record, target);
      await this.renewLease(target);
    }
    return { target, key, record, alreadyRan };
  }

  /**
   * Takes the lease for preflight; undefined when taken. When an earlier run of this upgrade holds it
   * (its lease outlives a crash), says when it expires, unless it was renewed since `earlierRun` was
   * seen: that run is alive, and this one is refused.
   */
  private async waitForEarlierRun(target: GroupUpgradeTarget, earlierRun: EarlierRunLease | null): Promise<PreflightCheck | undefined> {
    try {
      await this.renewLease(target);
      return undefined;
    } catch (error) {
      if (!(error instanceof UpgradeStepError && error.code === 'LeaseHeld')) throw error;
      const held = await this.deps.store.getLease(target.mediaServerId);
      if (held === undefined) return { ready: false, retryAt: new Date(this.clock.now()).toISOString(), earlierRun: null };
      if (!isRunOf(held.owner, target.upgradeId) || held.owner === leaseOwner(target)) throw error;
      if (earlierRun !== null && (held.owner !== earlierRun.owner || held.leaseUntil !== earlierRun.leaseUntil)) {
        throw new UpgradeStepError('LeaseHeld', `upgrade ${target.upgradeId} is still running elsewhere (${held.owner} holds the lease of ${target.mediaServerId}); refusing a second run`);
      }
      this.log.info('waiting for the lease of an earlier run', { ...fields(target), holder: held.owner, leaseUntil: held.leaseUntil });
      return { ready: false, retryAt: new Date(held.leaseUntil + this.settings.leaseExpiryMarginMs).toISOString(), earlierRun: { owner: held.owner, leaseUntil: held.leaseUntil } };
    }
  }

  /** Takes the media server's lease, or renews it once a quarter of its time has passed (polls need not write every time). */
  private async renewLease(target: GroupUpgradeTarget): Promise<void> {
    const renewedAt = this.leasesRenewedAt.get(leaseKey(target));
    const now = this.clock.now();
    if (renewedAt !== undefined && now - renewedAt < this.settings.leaseTtlMs / 4) return;
    await this.deps.store.acquireLease(target.mediaServerId, leaseOwner(target), target.groupId, this.settings.leaseTtlMs);
    this.leasesRenewedAt.set(leaseKey(target), now);
  }

  private async releaseLease(target: GroupUpgradeTarget): Promise<void> {
    this.leasesRenewedAt.delete(leaseKey(target));
    await this.deps.store.releaseLease(target.mediaServerId, leaseOwner(target));
  }

  private async advance(key: GroupKey, from: GroupUpgradePhase, to: GroupUpgradePhase, changes: GroupRecordChanges): Promise<GroupRecord> {
    const record = await this.deps.store.updateGroup(key, [from], changes, to);
    await this.audit(key, { type: 'phase', from, to });
    return record;
  }

  private audit(key: GroupKey, event: AuditEvent): Promise<void> {
    return this.deps.store.appendAudit(key, event);
  }
}

function requirePhase(record: GroupRecord, allowed: readonly GroupUpgradePhase[], step: string): void {
  if (allowed.includes(record.phase)) return;
  throw new UpgradeStepError('InvalidInput', `group ${record.groupId} of ${record.mediaServerId} is ${record.phase}: ${step} needs ${allowed.join(' or ')}`);
}

/** The group went past `phase` (the step already ran: a retry or a resumed run); throws when its upgrade already failed. */
function alreadyPast(record: GroupRecord, phase: GroupUpgradePhase): boolean {
  if (record.phase === 'failed' || record.phase === 'rolled-back') {
    throw new UpgradeStepError('InvalidInput', `group ${record.groupId} of ${record.mediaServerId} already ended ${record.phase}: ${record.failure ?? 'no reason recorded'}`);
  }
  return isPast(record.phase, phase);
}

function requireDeploymentStarted(record: GroupRecord): string {
  if (record.deploymentId === undefined) throw new UpgradeStepError('InvalidInput', `group ${record.groupId} of ${record.mediaServerId}: the deployment has not started (run deploy)`);
  return record.deploymentId;
}

function requireDrainWritten(record: GroupRecord): number {
  requirePhase(record, ['draining'], 'the drain check');
  if (record.drainWrittenAt === undefined) throw new UpgradeStepError('InvalidInput', `group ${record.groupId} of ${record.mediaServerId}: the drain was not written yet (run drain)`);
  return record.drainWrittenAt;
}

/** The canary step's evidence saved in the record (none when the step just began or the record predates it). */
function savedEvidence(record: GroupRecord): CanaryEvidence {
  if (record.canaryEvidence === undefined) return NO_EVIDENCE;
  const what = `group ${record.groupId} of ${record.mediaServerId}: canaryEvidence`;
  let json: unknown;
  try {
    json = JSON.parse(record.canaryEvidence);
  } catch {
    throw new CorruptStateError(what, 'not JSON');
  }
  const parsed = canaryEvidenceSchema.safeParse(json);
  if (!parsed.success) throw new CorruptStateError(what, describeIssues(parsed.error.issues));
  return parsed.data;
}

function requireCanaryPolicy(target: GroupUpgradeTarget): CanaryPolicy {
  if (target.canary === undefined || target.canary === null) throw new UpgradeStepError('InvalidInput', `${describe(target)}: the upgrade has no canary policy`);
  return target.canary;
}

function watchKey(target: GroupUpgradeTarget): string {
  return `${target.upgradeId}\n${target.mediaServerId}\n${target.groupId}`;
}

function keyOf(target: GroupUpgradeTarget): GroupKey {
  return { upgradeId: target.upgradeId, mediaServerId: target.mediaServerId, groupId: target.groupId };
}

function leaseKey(target: GroupUpgradeTarget): string {
  return `${target.mediaServerId}\n${leaseOwner(target)}\n${target.groupId}`;
}

function release(target: GroupUpgradeTarget): Release {
  return { image: target.image, version: target.version };
}

function describe(target: GroupUpgradeTarget): string {
  return `group ${target.groupId} of ${target.mediaServerId}`;
}

function fields(target: GroupUpgradeTarget) {
  return { upgradeId: target.upgradeId, mediaServerId: target.mediaServerId, groupId: target.groupId, version: target.version };
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

import type { UpgradePlan } from './upgrade-plan';
import { UpgradeStepError, type GroupUpgradeTarget } from './upgrade-steps';

/** What every group target of one execution shares: it travels once, not once per group. */
export type UpgradeRelease = Required<Omit<GroupUpgradeTarget, 'mediaServerId' | 'groupId'>>;

/** One item of the Distributed Map: a media server and its groups in blue-green order. */
export interface MediaServerItem {
  readonly mediaServerId: string;
  readonly groups: readonly string[];
}

/**
 * The output of the state machine's `Plan` task. Step Functions caps a state's input and output at
 * 256 KiB, so the plan carries the shared fields once and each media server as its id and groups (75
 * bytes for `msp-site-017/media-server-04` with blue and green: 150 KB for 2,000 media servers, where the
 * full targets took 1.2 MB); each child execution builds its group targets from the two.
 */
export interface StateMachinePlan {
  readonly upgradeId: string;
  readonly concurrency: number;
  readonly release: UpgradeRelease;
  readonly mediaServers: readonly MediaServerItem[];
}

/** Step Functions' limit on a state's input or output, and so on the Distributed Map's items and results. */
export const STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** The result a child execution returns for one media server (a failure names the error; its cause stays in the child's history and the audit trail). */
export const childResultBytes = (mediaServerId: string) => Buffer.byteLength(JSON.stringify({ mediaServerId, status: 'failed', error: 'GroupUpgradeFailed' })) + 1;

/**
 * Compacts a plan for the state machine. Throws `InvalidInput` when its items, or the results the
 * media servers would return in the worst case (all failed), would not fit a state's 256 KiB: the
 * operator then upgrades the fleet in parts (`mediaServers` lists), before anything changed.
 */
export function stateMachinePlan(plan: UpgradePlan): StateMachinePlan {
  const [first] = plan.mediaServers.flatMap((mediaServer) => mediaServer.targets);
  if (first?.runId === undefined) throw new Error('a state machine plan needs at least one target and a run id');
  const { upgradeId, runId, image, version, maxDrainSeconds, onDrainTimeout } = first;
  const compact: StateMachinePlan = {
    upgradeId: plan.upgradeId,
    concurrency: plan.concurrency,
    // Always present (null for none): the state machine's choice on it must not meet a missing field.
    release: { upgradeId, runId, image, version, maxDrainSeconds, onDrainTimeout, canary: first.canary ?? null },
    mediaServers: plan.mediaServers.map((mediaServer) => ({ mediaServerId: mediaServer.mediaServerId, groups: mediaServer.targets.map((target) => target.groupId) })),
  };
  const planBytes = Buffer.byteLength(JSON.stringify(compact));
  const resultBytes = Buffer.byteLength(JSON.stringify({ ...compact, mediaServers: [] })) + plan.mediaServers.reduce((sum, mediaServer) => sum + childResultBytes(mediaServer.mediaServerId), 0);
  const largest = Math.max(planBytes, resultBytes);
  if (largest > STATE_PAYLOAD_LIMIT_BYTES) {
    throw new UpgradeStepError(
      'InvalidInput',
      `upgrade plan: ${plan.mediaServers.length} media servers need ${Math.ceil(largest / 1024)} KiB of execution state, over Step Functions' 256 KiB; upgrade them in parts (list mediaServers)`,
    );
  }
  return compact;
}

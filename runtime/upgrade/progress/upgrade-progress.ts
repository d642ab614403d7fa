import type { CanaryCheck, GroupUpgradePhase, GroupUpgradeStepName, UpgradeErrorCode } from '../flow/upgrade-steps';

/** One progress report of the local orchestrator (the CLI renders these; `--json` prints them as lines). */
export interface UpgradeProgress {
  readonly mediaServerId: string;
  readonly groupId: string;
  /** The step that just started, or `done` when the group's upgrade ended. */
  readonly step: GroupUpgradeStepName | 'done';
  /** Calls still on the group (drain checks only). */
  readonly remainingCalls?: number;
  /** `maxDrainSeconds` has passed with calls remaining (drain checks only). */
  readonly timedOut?: boolean;
  /** Where the group's canary stands (canary checks only): the step (0-based), its share of new calls, and the calls it took (holding) or has left (backing out). */
  readonly canary?: Pick<CanaryCheck, 'status' | 'step' | 'share' | 'calls'>;
  /** The group's final phase (`done` only). */
  readonly phase?: GroupUpgradePhase;
  /** Since this media server's upgrade started. */
  readonly elapsedMs: number;
  readonly detail?: string;
}

export interface GroupOutcome {
  readonly groupId: string;
  /** `pending` for a group never started because an earlier group of its media server failed. */
  readonly phase: GroupUpgradePhase;
  /** From the drain write until FreeSWITCH reported no calls (undefined when the drain did not finish). */
  readonly drainSeconds?: number;
  readonly forcedCalls: number;
  readonly error?: { readonly code: UpgradeErrorCode | 'Error'; readonly message: string };
}

export interface MediaServerOutcome {
  readonly mediaServerId: string;
  readonly status: 'upgraded' | 'failed';
  readonly groups: readonly GroupOutcome[];
  readonly elapsedMs: number;
}

export interface UpgradeSummary {
  readonly upgradeId: string;
  readonly status: 'succeeded' | 'failed';
  readonly mediaServers: readonly MediaServerOutcome[];
  /** The longest drain of any group. */
  readonly maxDrainSeconds: number;
  readonly elapsedMs: number;
}

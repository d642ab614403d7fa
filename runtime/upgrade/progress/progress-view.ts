import { formatTable } from '../../commands/output';
import type { UpgradeProgress, UpgradeSummary } from './upgrade-progress';

/** How `voiceplane upgrade` and `voiceplane demo` show progress (pure: events in, text lines out). */

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

function stepText(progress: UpgradeProgress): string {
  if (progress.step === 'done') return progress.phase ?? 'done';
  if (progress.step === 'checkDrain') return progress.timedOut ? 'draining (past max drain)' : 'draining';
  if (progress.step === 'checkDeployment') return 'deploying';
  if (progress.step === 'checkCanary' && progress.canary !== undefined) return canaryText(progress.canary);
  return progress.step;
}

/** A canary check in words; a held step's text does not change while it holds (one line per step). */
function canaryText(canary: NonNullable<UpgradeProgress['canary']>): string {
  switch (canary.status) {
    case 'holding':
      return `canary step ${canary.step + 1} at ${canary.share} % of new calls: holding`;
    case 'passed':
      return 'canary passed: every step';
    case 'backing-out':
      return 'canary failed: share 0, drained';
    case 'backed-out':
      return 'canary backed out: no call left on the group';
  }
}

function callsLeft(count: number | undefined): string {
  return count === undefined ? 'calls left unknown' : `${count} call${count === 1 ? '' : 's'} left`;
}

/** The latest state of each media server, as a table redrawn in place on a terminal. */
export class ProgressBoard {
  private readonly latest = new Map<string, UpgradeProgress>();

  update(progress: UpgradeProgress): void {
    this.latest.set(progress.mediaServerId, progress);
  }

  lines(): string[] {
    const rows = [...this.latest.values()].map((progress) => [
      progress.mediaServerId,
      progress.groupId,
      stepText(progress),
      progress.remainingCalls === undefined ? (progress.canary === undefined ? '' : String(progress.canary.calls)) : String(progress.remainingCalls),
      seconds(progress.elapsedMs),
    ]);
    return formatTable(['MEDIA SERVER', 'GROUP', 'STEP', 'CALLS', 'ELAPSED'], rows);
  }
}

/**
 * One line per change worth a line (for logs and pipes): every step start and end, a drain count only
 * when it changes, a deployment check only when its detail changes.
 */
export class ProgressLog {
  private readonly lastLine = new Map<string, string>();
  private readonly lastCanaryStage = new Map<string, string>();

  line(progress: UpgradeProgress): string | undefined {
    const key = `${progress.mediaServerId} ${progress.groupId}`;
    const what =
      progress.step === 'checkDrain'
        ? `${stepText(progress)}, ${callsLeft(progress.remainingCalls)}`
        : progress.step === 'checkDeployment'
        ? `deploying: ${progress.detail ?? ''}`
        : progress.step === 'checkCanary'
        ? `${stepText(progress)}${progress.canary?.status === 'backing-out' ? `, ${callsLeft(progress.canary.calls)}` : ''}`
        : `${stepText(progress)}${progress.detail ? `: ${progress.detail}` : ''}`;
    if (this.lastLine.get(key) === what) return undefined;
    this.lastLine.set(key, what);
    return `${seconds(progress.elapsedMs).padStart(7)}  ${key}  ${what}${this.canaryNews(key, progress)}`;
  }

  /** A canary check's detail, once per stage: the verdict that moved the step on (or what a new step waits for), the failure. */
  private canaryNews(key: string, progress: UpgradeProgress): string {
    if (progress.step !== 'checkCanary' || progress.canary === undefined || !progress.detail) return '';
    const stage = `${progress.canary.status} ${progress.canary.step}`;
    if (this.lastCanaryStage.get(key) === stage) return '';
    this.lastCanaryStage.set(key, stage);
    return ` (${progress.detail})`;
  }
}

export function summaryLines(summary: UpgradeSummary): string[] {
  const rows = summary.mediaServers.flatMap((mediaServer) =>
    mediaServer.groups.map((group) => [
      mediaServer.mediaServerId,
      group.groupId,
      group.phase,
      group.drainSeconds === undefined ? '-' : `${group.drainSeconds.toFixed(1)}s`,
      String(group.forcedCalls),
      group.error === undefined ? '' : `${group.error.code}: ${group.error.message}`,
    ]),
  );
  return [
    ...formatTable(['MEDIA SERVER', 'GROUP', 'RESULT', 'DRAIN', 'FORCED', 'ERROR'], rows),
    `upgrade ${summary.upgradeId} ${summary.status} in ${seconds(summary.elapsedMs)}; longest drain ${summary.maxDrainSeconds.toFixed(1)}s`,
  ];
}

import { randomBytes } from 'crypto';

/** A fresh upgrade id: `upgrade-<UTC time>-<random>`, valid as a Step Functions execution name. */
export function newUpgradeId(nowMs: number, random: () => string = () => randomBytes(3).toString('hex')): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `upgrade-${stamp}-${random()}`;
}

/** A fresh id for one run of an upgrade (one orchestrator process, or one Step Functions execution). */
export function newRunId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * Who holds a media server's lease: one run of one upgrade. A second live run of the same upgrade (a
 * "resume" while the first still runs) is another owner, so the lease refuses it.
 */
export function leaseOwner(target: { readonly upgradeId: string; readonly runId?: string }): string {
  // Targets planned before runs had ids (executions in flight across a deployment) carry none.
  return target.runId === undefined ? target.upgradeId : `${target.upgradeId} run ${target.runId}`;
}

/** The lease owner is a run of `upgradeId`. */
export function isRunOf(owner: string, upgradeId: string): boolean {
  return owner === upgradeId || owner.startsWith(`${upgradeId} run `);
}

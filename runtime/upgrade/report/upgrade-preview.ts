import { formatTable } from '../../commands/output';
import { errorMessage } from '../../shared/logger';
import { mapWithConcurrency } from '../flow/concurrency-pool';
import type { UpgradePlan } from '../flow/upgrade-plan';
import type { UpgradeRequest } from '../request/upgrade-request';
import type { CanaryPolicy } from '../canary';
import type { MediaServerSessions } from '../steps/media-server-sessions';

/** What one media server looks like before its upgrade: its route table and the calls on each of its groups now. */
export type MediaServerPreview =
  | { readonly mediaServerId: string; readonly order: readonly string[]; readonly routes: readonly string[]; readonly calls: Readonly<Record<string, number>> }
  | { readonly mediaServerId: string; readonly order: readonly string[]; readonly unreachable: string };

/** Reads each planned media server's routes and calls per group, at most `concurrency` at once; changes nothing. */
export function previewUpgrade(plan: UpgradePlan, sessions: MediaServerSessions): Promise<MediaServerPreview[]> {
  return mapWithConcurrency(plan.mediaServers, plan.concurrency, async (mediaServer): Promise<MediaServerPreview> => {
    const order = mediaServer.targets.map((target) => target.groupId);
    try {
      return await sessions.use(mediaServer.mediaServerId, async ({ client }) => {
        const table = await client.routes();
        const groups = table?.groups.map((group) => group.id) ?? order;
        const calls: Record<string, number> = {};
        for (const groupId of groups) calls[groupId] = await client.groupCallCount(groupId);
        return { mediaServerId: mediaServer.mediaServerId, order, routes: table?.groups.map((group) => `${group.id} ${group.state}`) ?? [], calls };
      });
    } catch (error) {
      return { mediaServerId: mediaServer.mediaServerId, order, unreachable: errorMessage(error) };
    }
  });
}

/** The drain policy in words. */
export function describeDrainPolicy(request: Pick<UpgradeRequest, 'maxDrainSeconds' | 'onDrainTimeout'>): string {
  const after = { wait: 'keep waiting (and report it)', force: 'hang up the calls still on the group', abort: 'stop and restore the group without upgrading it' }[request.onDrainTimeout];
  return `wait up to ${request.maxDrainSeconds} s for each group's calls to end, then ${after}`;
}

/** The canary policy in words: each step's share, hold and limits, and what a failure does. */
export function describeCanaryPolicy(policy: CanaryPolicy): string {
  const hold = [policy.hold.seconds === undefined ? undefined : `${policy.hold.seconds} s`, policy.hold.calls === undefined ? undefined : `${policy.hold.calls} calls`].filter(Boolean).join(' and ');
  const { thresholds } = policy;
  const steps = policy.steps.map((share) => `${share} %`).join(', then ');
  return (
    `canary: each upgraded group takes ${steps} of new calls before its full reference; each step holds ${hold} (at least ${thresholds.minCalls} calls, at most ${policy.maxHoldSeconds} s) ` +
    `and fails on over ${thresholds.maxFailedCallPercent} % failed calls, over ${thresholds.maxShortCallPercent} % calls under ${thresholds.shortCallSeconds} s, ` +
    `over ${thresholds.maxFailedConnections} failed connection(s) or ${thresholds.maxConsecutiveHealthFailures} failed /health checks in a row; ` +
    `a failed canary goes to share 0, drains, is rolled back to its previous version, and no further group starts`
  );
}

/** The preview as lines for a terminal. */
export function previewLines(plan: UpgradePlan, request: UpgradeRequest, previews: readonly MediaServerPreview[]): string[] {
  const rows = previews.map((preview) => [
    preview.mediaServerId,
    preview.order.join(' then '),
    'unreachable' in preview ? 'unreachable' : preview.routes.join(', ') || 'no route table',
    'unreachable' in preview ? preview.unreachable : Object.entries(preview.calls).map(([group, count]) => `${group} ${count}`).join(', '),
  ]);
  return [
    `upgrade plan ${plan.upgradeId}: ${request.image}:${request.version} on ${previews.length} media server(s), groups ${request.groups.join(' then ')}, at most ${plan.concurrency} at once`,
    `drain policy: ${describeDrainPolicy(request)}`,
    ...(request.canary === undefined ? [] : [describeCanaryPolicy(request.canary)]),
    ...formatTable(['MEDIA SERVER', 'ORDER', 'ROUTES', 'CALLS NOW'], rows),
    'nothing was changed (run without --plan to upgrade)',
  ];
}

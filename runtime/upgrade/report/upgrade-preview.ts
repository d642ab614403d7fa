import { formatTable } from '../../commands/output';
import { errorMessage } from '../../shared/logger';
import type { UpgradePlan } from '../flow/upgrade-plan';
import type { UpgradeRequest } from '../request/upgrade-request';
import type { MediaServerSessions } from '../steps/media-server-sessions';

/** What one media server looks like before its upgrade: its route table and the calls on each of its groups now. */
export type MediaServerPreview =
  | { readonly mediaServerId: string; readonly order: readonly string[]; readonly routes: readonly string[]; readonly calls: Readonly<Record<string, number>> }
  | { readonly mediaServerId: string; readonly order: readonly string[]; readonly unreachable: string };

/** Reads each planned media server's routes and calls per group, at most `concurrency` at once; changes nothing. */
export async function previewUpgrade(plan: UpgradePlan, sessions: MediaServerSessions): Promise<MediaServerPreview[]> {
  const previews: MediaServerPreview[] = [];
  const queue = [...plan.mediaServers];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const mediaServer = next;
      const order = mediaServer.targets.map((target) => target.groupId);
      try {
        previews.push(
          await sessions.use(mediaServer.mediaServerId, async ({ client }) => {
            const table = await client.routes();
            const groups = table?.groups.map((group) => group.id) ?? order;
            const calls: Record<string, number> = {};
            for (const groupId of groups) calls[groupId] = await client.groupCallCount(groupId);
            return { mediaServerId: mediaServer.mediaServerId, order, routes: table?.groups.map((group) => `${group.id} ${group.state}`) ?? [], calls };
          }),
        );
      } catch (error) {
        previews.push({ mediaServerId: mediaServer.mediaServerId, order, unreachable: errorMessage(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, plan.concurrency) }, worker));
  const position = new Map(plan.mediaServers.map((mediaServer, index) => [mediaServer.mediaServerId, index]));
  return previews.sort((first, second) => position.get(first.mediaServerId)! - position.get(second.mediaServerId)!);
}

/** The drain policy in words. */
export function describeDrainPolicy(request: Pick<UpgradeRequest, 'maxDrainSeconds' | 'onDrainTimeout'>): string {
  const after = { wait: 'keep waiting (and report it)', force: 'hang up the calls still on the group', abort: 'stop and restore the group without upgrading it' }[request.onDrainTimeout];
  return `wait up to ${request.maxDrainSeconds} s for each group's calls to end, then ${after}`;
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
    ...formatTable(['MEDIA SERVER', 'ORDER', 'ROUTES', 'CALLS NOW'], rows),
    'nothing was changed (run without --plan to upgrade)',
  ];
}

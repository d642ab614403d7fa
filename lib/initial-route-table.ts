import { RouteTable } from '../runtime/dialplan';
import { callControlEndpointFqdn } from './naming';
import { callControlListenerPort } from './ports';

/** The groups of a media server as the topology lists them: the identity of each, without sizing. */
export interface MediaServerGroups {
  readonly id: string;
  readonly callControl: { readonly groups: readonly { readonly id: string }[] };
}

/** A media server's first route table: every group active, in topology order, each through its endpoint port. */
export function initialRouteTable(platform: string, siteId: string, server: MediaServerGroups): RouteTable {
  const host = callControlEndpointFqdn(platform, siteId, server.id);
  return {
    groups: server.callControl.groups.map((group, groupIndex) => ({
      id: group.id,
      endpoints: [{ host, port: callControlListenerPort(groupIndex) }],
      state: 'active' as const,
    })),
  };
}

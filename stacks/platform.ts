import { App } from 'cdktf';
import { Topology } from '../lib';
import { DataCenterStack } from './data-center-stack';
import { DeploymentProfile } from './deployment-profile';
import { SiteStack } from './site-stack';

export interface Platform {
  readonly dataCenterStacks: DataCenterStack[];
  readonly siteStacks: SiteStack[];
}

/** One stack per data center and one per site; a site deploys after the data centers it uses. */
export function buildPlatform(app: App, topology: Topology, profile: DeploymentProfile): Platform {
  const dataCenterStacks = new Map(topology.dataCenters.map((dc) => [dc.id, new DataCenterStack(app, topology, dc, profile)]));
  const siteStacks = topology.sites.map((site) => {
    const stack = new SiteStack(app, topology, site, profile);
    for (const dcId of new Set(site.mediaServers.map((server) => server.callControl.dataCenter))) {
      const dataCenterStack = dataCenterStacks.get(dcId);
      if (dataCenterStack) stack.addDependency(dataCenterStack);
    }
    return stack;
  });
  return { dataCenterStacks: [...dataCenterStacks.values()], siteStacks };
}

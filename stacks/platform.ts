import { App } from 'cdktf';
import { StateBackend, Topology } from '../lib';
import { DataCenterStack } from './data-center-stack';
import { DeploymentProfile } from './deployment-profile';
import { SiteStack } from './site-stack';
import { stackStateBackend } from './state-backend-settings';

export interface Platform {
  readonly dataCenterStacks: DataCenterStack[];
  readonly siteStacks: SiteStack[];
}

/**
 * One stack per data center and one per site; a site deploys after the data centers it uses and
 * after the sites before it in the topology (it owns the peering to each of them). Every stack keeps
 * its state in `stateBackend` (the topology's by default), which the `aws` profile requires; the
 * `offline` profile keeps state locally. Throws a StateBackendError before building anything.
 */
export function buildPlatform(app: App, topology: Topology, profile: DeploymentProfile, stateBackend: StateBackend | undefined = topology.stateBackend): Platform {
  const backend = stackStateBackend(profile, stateBackend);
  const dataCenterStacks = new Map(topology.dataCenters.map((dc) => [dc.id, new DataCenterStack(app, topology, dc, profile, backend)]));
  const siteStacks: SiteStack[] = [];
  for (const site of topology.sites) {
    const stack = new SiteStack(app, topology, site, profile, backend);
    for (const dcId of new Set(site.mediaServers.map((server) => server.callControl.dataCenter))) {
      const dataCenterStack = dataCenterStacks.get(dcId);
      if (dataCenterStack) stack.addDependency(dataCenterStack);
    }
    for (const earlierSiteStack of siteStacks) stack.addDependency(earlierSiteStack);
    siteStacks.push(stack);
  }
  return { dataCenterStacks: [...dataCenterStacks.values()], siteStacks };
}

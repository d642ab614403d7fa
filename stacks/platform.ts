import { App } from 'cdktf';
import { StateBackend, Topology, dataCenterStackName, siteStackName } from '../lib';
import { DataCenterStack } from './data-center-stack';
import { DeploymentProfile } from './deployment-profile';
import { SiteStack } from './site-stack';
import { selectStacks } from './stack-selection';
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
 * `stacks` (default: all, see selectStacks) limits what is built: each of those stacks is the same as in a
 * whole synth, and records its dependencies only on stacks also built.
 */
export function buildPlatform(
  app: App,
  topology: Topology,
  profile: DeploymentProfile,
  stateBackend: StateBackend | undefined = topology.stateBackend,
  stacks: ReadonlySet<string> = selectStacks(topology, undefined),
): Platform {
  const backend = stackStateBackend(profile, stateBackend);
  const dataCenterStacks = new Map(
    topology.dataCenters
      .filter((dc) => stacks.has(dataCenterStackName(topology.platform, dc.id)))
      .map((dc) => [dc.id, new DataCenterStack(app, topology, dc, profile, backend)]),
  );
  const siteStacks = new Map(
    topology.sites.filter((site) => stacks.has(siteStackName(topology.platform, site.id))).map((site) => [site.id, new SiteStack(app, topology, site, profile, backend)]),
  );
  // cdktf's cycle check on addDependency walks every path through the stacks already wired: wiring the last
  // site first keeps each check one level deep (in topology order it takes 2^sites steps).
  for (const site of [...topology.sites].reverse()) {
    const stack = siteStacks.get(site.id);
    if (!stack) continue;
    for (const dcId of new Set(site.mediaServers.map((server) => server.callControl.dataCenter))) {
      const dataCenterStack = dataCenterStacks.get(dcId);
      if (dataCenterStack) stack.addDependency(dataCenterStack);
    }
    for (const earlierSite of topology.sites.slice(0, topology.sites.indexOf(site))) {
      const earlierSiteStack = siteStacks.get(earlierSite.id);
      if (earlierSiteStack) stack.addDependency(earlierSiteStack);
    }
  }
  return { dataCenterStacks: [...dataCenterStacks.values()], siteStacks: [...siteStacks.values()] };
}

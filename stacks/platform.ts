import { App } from 'cdktf';
import { StateBackend, Topology, dataCenterStackName, siteStackName } from '../lib';
import { DataCenterStack } from './data-center-stack';
import { DeploymentProfile } from './deployment-profile';
import { SelfContainedStack } from './self-contained-stack';
import { SiteStack } from './site-stack';
import { selectStacks } from './stack-selection';
import { stackStateBackend } from './state-backend-settings';
import { markTokenRegistry } from './token-registry';

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
 * whole synth, and records its dependencies only on stacks also built. Stacks are built data centers first, then
 * sites in topology order, and each is passed to `onStackBuilt` (dependencies recorded) before the next is built.
 */
export function buildPlatform(
  app: App,
  topology: Topology,
  profile: DeploymentProfile,
  stateBackend: StateBackend | undefined = topology.stateBackend,
  stacks: ReadonlySet<string> = selectStacks(topology, undefined),
  onStackBuilt: (stack: SelfContainedStack) => void = () => undefined,
): Platform {
  const backend = stackStateBackend(profile, stateBackend);
  const dataCenterStacks = new Map<string, DataCenterStack>();
  for (const dc of topology.dataCenters) {
    if (!stacks.has(dataCenterStackName(topology.platform, dc.id))) continue;
    const stack = new DataCenterStack(app, topology, dc, profile, backend);
    dataCenterStacks.set(dc.id, stack);
    onStackBuilt(stack);
  }
  const siteStacks = new Map<string, SiteStack>();
  for (const site of topology.sites) {
    if (!stacks.has(siteStackName(topology.platform, site.id))) continue;
    const stack = new SiteStack(app, topology, site, profile, backend);
    const dataCenters = [...new Set(site.mediaServers.map((server) => server.callControl.dataCenter))].map((dcId) => dataCenterStacks.get(dcId));
    const earlierSites = topology.sites.slice(0, topology.sites.indexOf(site)).map((earlierSite) => siteStacks.get(earlierSite.id));
    // Every dependency was built before this stack, so none can close a cycle: cdktf's addDependency would look for
    // one along every path through the earlier sites (2^sites steps).
    stack.dependencies.push(...[...dataCenters, ...earlierSites].filter((dependency): dependency is DataCenterStack | SiteStack => dependency !== undefined));
    siteStacks.set(site.id, stack);
    onStackBuilt(stack);
  }
  return { dataCenterStacks: [...dataCenterStacks.values()], siteStacks: [...siteStacks.values()] };
}

/**
 * Writes what `buildPlatform` then `app.synth()` write (every stack's directory and the manifest), one stack at a
 * time: each stack is synthesized as soon as it is built, then released with the tokens it registered, so a synth
 * never holds more than one stack's constructs, however many sites the platform has. `app` must not be synthesized
 * again, and the stacks' constructs cannot be read afterwards.
 */
export function synthesizePlatform(
  app: App,
  topology: Topology,
  profile: DeploymentProfile,
  stateBackend: StateBackend | undefined = topology.stateBackend,
  stacks: ReadonlySet<string> = selectStacks(topology, undefined),
): void {
  const session = { outdir: app.outdir, skipValidation: app.skipValidation, manifest: app.manifest };
  const tokensBefore = markTokenRegistry();
  buildPlatform(app, topology, profile, stateBackend, stacks, (stack) => {
    stack.prepareStack();
    stack.synthesizer.synthesize(session);
    stack.release();
    tokensBefore.releaseNewer();
  });
  app.manifest.writeToFile();
}

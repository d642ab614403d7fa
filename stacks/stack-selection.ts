import { Topology, dataCenterStackName, siteStackName } from '../lib';

/** A stack selection naming a stack the topology does not have; the message is one line naming it. */
export class StackSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackSelectionError';
  }
}

/** Every stack name of the topology: data centers first, then sites, in topology order. */
export function platformStackNames(topology: Topology): string[] {
  return [...topology.dataCenters.map((dc) => dataCenterStackName(topology.platform, dc.id)), ...topology.sites.map((site) => siteStackName(topology.platform, site.id))];
}

/**
 * The stacks to build from a comma-separated list of stack names (`acme-site-west,acme-dc-east`); every stack
 * when the list is absent. Stacks read each other only through Terraform state, so a named stack synthesizes
 * alone exactly as in a whole synth. An empty list means every stack too.
 */
export function selectStacks(topology: Topology, list: string | undefined): ReadonlySet<string> {
  const known = platformStackNames(topology);
  if (list === undefined || list.trim() === '') return new Set(known);
  const names = list.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  const unknown = names.find((name) => !known.includes(name));
  if (unknown !== undefined) throw new StackSelectionError(`stack "${unknown}" is not in this topology (its stacks: ${known.join(', ')})`);
  return new Set(names);
}

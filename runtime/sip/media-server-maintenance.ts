import { DestinationState, DispatcherDestination, listDestinations, restoreDestinationState, setDestinationState } from './dispatcher-state';
import { KamailioRpc } from './kamailio-rpc';
import { SipError } from './sip-error';

/**
 * Media-server maintenance at the SIP layer, on every node of a site's SIP cluster: drain (no new
 * calls; calls in progress continue), undrain, and the state each node holds. Every node is read and
 * checked before any is changed, so an unknown id or an unreachable node changes nothing; a node failing
 * part way through the change has the nodes already changed put back as they were read (best effort).
 */

export interface MaintenanceTarget {
  readonly siteId: string;
  readonly mediaServerId: string;
}

export interface NodeState {
  readonly node: string;
  readonly state: DestinationState;
  readonly probing: boolean;
}

export interface MediaServerSipState extends MaintenanceTarget {
  readonly uri: string;
  readonly nodes: readonly NodeState[];
}

interface LocatedDestination {
  readonly rpc: KamailioRpc;
  readonly destination: DispatcherDestination;
  /** The site's other media servers on the same node. */
  readonly siblings: readonly DispatcherDestination[];
}

const TAKES_CALLS: readonly DestinationState[] = ['active', 'trying'];

export async function readMediaServerState(nodes: readonly KamailioRpc[], target: MaintenanceTarget): Promise<MediaServerSipState> {
  return stateOf(target, await locate(nodes, target));
}

/** Stops new calls to the media server; refuses when no other media server of the site would take them. */
export async function drainMediaServer(nodes: readonly KamailioRpc[], target: MaintenanceTarget): Promise<MediaServerSipState> {
  const located = await locate(nodes, target);
  for (const { rpc, siblings } of located) {
    if (!siblings.some((sibling) => TAKES_CALLS.includes(sibling.state))) {
      const others = siblings.map((sibling) => `${sibling.ids?.mediaServerId}: ${sibling.state}`).sort().join(', ');
      throw new SipError(`refusing to drain ${target.mediaServerId}: no other media server of site ${target.siteId} takes new calls on ${rpc.name} (${others || 'it is the only one'})`);
    }
  }
  await changeEveryNode(located, 'drained', target);
  const after = await readMediaServerState(nodes, target);
  const notDrained = after.nodes.filter((node) => node.state !== 'drained');
  if (notDrained.length > 0) throw new SipError(`${target.mediaServerId} reads back as ${notDrained.map((node) => `${node.state} on ${node.node}`).join(', ')} after draining: another operator changed it`);
  return after;
}

/** Lets the media server take new calls again once it answers the OPTIONS probes. */
export async function undrainMediaServer(nodes: readonly KamailioRpc[], target: MaintenanceTarget): Promise<MediaServerSipState> {
  await changeEveryNode(await locate(nodes, target), 'undrained', target);
  return readMediaServerState(nodes, target);
}

async function locate(nodes: readonly KamailioRpc[], target: MaintenanceTarget): Promise<LocatedDestination[]> {
  if (nodes.length === 0) throw new SipError('no Kamailio node to ask');
  const located = await Promise.all(nodes.map(async (rpc) => locateOnNode(rpc, await listDestinations(rpc), target)));
  const uris = new Set(located.map(({ destination }) => destination.uri));
  if (uris.size > 1) throw new SipError(`the nodes disagree on where ${target.mediaServerId} is: ${located.map(({ rpc, destination }) => `${rpc.name} has ${destination.uri}`).join(', ')}`);
  return located;
}

function locateOnNode(rpc: KamailioRpc, destinations: readonly DispatcherDestination[], target: MaintenanceTarget): LocatedDestination {
  const ofSite = destinations.filter((destination) => destination.ids?.siteId === target.siteId);
  if (ofSite.length === 0) {
    const served = [...new Set(destinations.flatMap((destination) => (destination.ids ? [destination.ids.siteId] : [])))].sort();
    throw new SipError(`unknown site "${target.siteId}": Kamailio at ${rpc.name} serves ${served.length > 0 ? `site ${served.join(', ')}` : 'no voiceplane site'}`);
  }
  const destination = ofSite.find((candidate) => candidate.ids?.mediaServerId === target.mediaServerId);
  if (!destination) {
    throw new SipError(`unknown media server "${target.mediaServerId}" at site ${target.siteId} (media servers: ${ofSite.map((candidate) => candidate.ids?.mediaServerId).sort().join(', ')})`);
  }
  return { rpc, destination, siblings: ofSite.filter((candidate) => candidate !== destination) };
}

async function changeEveryNode(located: readonly LocatedDestination[], state: 'drained' | 'undrained', target: MaintenanceTarget): Promise<void> {
  const changed: LocatedDestination[] = [];
  for (const node of located) {
    try {
      await setDestinationState(node.rpc, node.destination, state);
    } catch (error) {
      const rollback = await rollBack([...changed].reverse());
      throw new SipError(`${target.mediaServerId}: not ${state}: ${(error as Error).message}; ${describeRollback(rollback, state)}`);
    }
    changed.push(node);
  }
}

interface RollbackOutcome {
  readonly restored: readonly string[];
  readonly failed: readonly { readonly node: string; readonly reason: string }[];
}

/** Puts each node back as it was read, carrying on past a node that fails. */
async function rollBack(changed: readonly LocatedDestination[]): Promise<RollbackOutcome> {
  const restored: string[] = [];
  const failed: { node: string; reason: string }[] = [];
  for (const { rpc, destination } of changed) {
    try {
      await restoreDestinationState(rpc, destination);
      restored.push(rpc.name);
    } catch (error) {
      failed.push({ node: rpc.name, reason: (error as Error).message });
    }
  }
  return { restored, failed };
}

function describeRollback({ restored, failed }: RollbackOutcome, state: 'drained' | 'undrained'): string {
  if (restored.length === 0 && failed.length === 0) return 'no node was changed';
  const parts = [
    ...(restored.length > 0 ? [`rolled back on ${restored.join(', ')}`] : []),
    ...failed.map(({ node, reason }) => `could not roll back ${node}, it stays ${state} there (${reason})`),
  ];
  return parts.join('; ');
}

function stateOf(target: MaintenanceTarget, located: readonly LocatedDestination[]): MediaServerSipState {
  return {
    ...target,
    uri: located[0].destination.uri,
    nodes: located.map(({ rpc, destination }) => ({ node: rpc.name, state: destination.state, probing: destination.probing })),
  };
}

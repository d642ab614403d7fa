import { httpJsonRpcTransport } from '../../runtime/commands/sip-command';
import { DestinationState, KamailioRpc, SipError, SipSite, drainMediaServer, listDestinations, readMediaServerState, undrainMediaServer } from '../../runtime/sip';
import { freeLoopbackPorts } from '../support/sip/free-ports';
import { KamailioNode, LOOPBACK } from '../support/sip/kamailio-node';
import { refusingSetState } from '../support/sip/rpc-stand-in';
import { SipTools, sipToolsOrSkip } from '../support/sip/sip-tools';

/**
 * Drain, undrain and their rollback across the nodes of a SIP cluster: two real Kamailio nodes of site west, whose
 * probes are slowed down so that only the RPC changes a state. A node that refuses an update, or answers garbage, is a
 * stand-in in front of a real node.
 */

const MEDIA_SERVERS = ['ms-1', 'ms-2', 'ms-3'];
const target = { siteId: 'west', mediaServerId: 'ms-1' };
const STATE_CODES: Record<DestinationState, string> = { active: 'ap', trying: 'tp', inactive: 'ip', drained: 'd' };

const tools: SipTools | undefined = sipToolsOrSkip();

(tools ? describe : describe.skip)('media-server maintenance over the dispatcher RPC (two real Kamailio nodes)', () => {
  let nodes: KamailioNode[] = [];
  let uris: Record<string, string>;
  let first: KamailioRpc;
  let second: KamailioRpc;

  beforeAll(async () => {
    const [firstRpc, firstSip, firstFacing, secondRpc, secondSip, secondFacing, ...mediaServerPorts] = await freeLoopbackPorts(6 + MEDIA_SERVERS.length);
    // Nothing listens on the media servers' ports: the states are the ones the test sets.
    const site: SipSite = { id: 'west', mediaServers: MEDIA_SERVERS.map((id, index) => ({ id, address: LOOPBACK, port: mediaServerPorts[index] })) };
    uris = Object.fromEntries(site.mediaServers.map((server) => [server.id, `sip:${LOOPBACK}:${server.port}`]));
    const start = (rpcPort: number, sipPort: number, mediaServerFacingPort: number) =>
      KamailioNode.start(tools!.kamailio, site, { rpcPort, sipPort, mediaServerFacingPort, pingIntervalSeconds: 300, children: 1 });
    nodes = await Promise.all([start(firstRpc, firstSip, firstFacing), start(secondRpc, secondSip, secondFacing)]);
    [first, second] = nodes.map((node) => node.rpc);
  });

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  });

  /** Puts the media servers of a node in `states` (the others active), as probes or an operator would. */
  const setStates = async (node: KamailioRpc, states: Record<string, DestinationState> = {}) => {
    for (const id of MEDIA_SERVERS) await node.call('dispatcher.set_state', [STATE_CODES[states[id] ?? 'active'], 1, uris[id]]);
  };
  /** Each media server's state on a node, as its dispatcher lists it. */
  const statesOn = async (node: KamailioRpc) =>
    Object.fromEntries((await listDestinations(node)).map((destination) => [destination.ids?.mediaServerId, `${destination.state}${destination.probing ? ' probing' : ''}`]));
  /** A node in front of the real node `node` that refuses the state updates `refuses` picks. */
  const refusing = (node: KamailioNode, refuses?: (code: string) => boolean) =>
    new KamailioRpc(`refusing ${node.rpcEndpoint}`, refusingSetState(httpJsonRpcTransport(node.rpcEndpoint, node.files.rpcToken), refuses));

  beforeEach(async () => {
    await Promise.all([setStates(first), setStates(second)]);
  });

  it('drains on every node of the cluster and reads the drain back', async () => {
    await setStates(second, { 'ms-2': 'trying' });
    const state = await drainMediaServer([first, second], target);
    expect(state).toEqual({
      ...target,
      uri: uris['ms-1'],
      nodes: [
        { node: first.name, state: 'drained', probing: false },
        { node: second.name, state: 'drained', probing: false },
      ],
    });
    expect(await statesOn(first)).toEqual({ 'ms-1': 'drained', 'ms-2': 'active probing', 'ms-3': 'active probing' });
    expect(await statesOn(second)).toEqual({ 'ms-1': 'drained', 'ms-2': 'trying probing', 'ms-3': 'active probing' });
  });

  it('undrains into probing, so the media server takes calls only once it answers', async () => {
    await setStates(first, { 'ms-1': 'drained' });
    expect((await undrainMediaServer([first], target)).nodes).toEqual([{ node: first.name, state: 'inactive', probing: true }]);
    expect((await statesOn(first))['ms-1']).toBe('inactive probing');
  });

  it('refuses to drain the last media server taking calls on any node, changing nothing', async () => {
    await setStates(second, { 'ms-2': 'drained', 'ms-3': 'inactive' });
    const before = [await statesOn(first), await statesOn(second)];
    await expect(drainMediaServer([first, second], target)).rejects.toThrow(
      new SipError(`refusing to drain ms-1: no other media server of site west takes new calls on ${second.name} (ms-2: drained, ms-3: inactive)`),
    );
    expect([await statesOn(first), await statesOn(second)]).toEqual(before);
  });

  it('rolls back the nodes already drained when a later node fails, and says so', async () => {
    await setStates(second, { 'ms-1': 'trying' });
    const third = refusing(nodes[0]);
    await expect(drainMediaServer([first, second, third], target)).rejects.toThrow(
      new SipError(`ms-1: not drained: Kamailio RPC at ${third.name}: dispatcher.set_state failed: State Update Failed (500); rolled back on ${second.name}, ${first.name}`),
    );
    expect([(await statesOn(first))['ms-1'], (await statesOn(second))['ms-1']]).toEqual(['active probing', 'trying probing']);
  });

  it('names the nodes it could not roll back, and the state they are left in', async () => {
    const drainsOnly = refusing(nodes[0], (code) => code !== 'd');
    const refusesAll = refusing(nodes[1]);
    await expect(drainMediaServer([drainsOnly, refusesAll], target)).rejects.toThrow(
      new SipError(
        `ms-1: not drained: Kamailio RPC at ${refusesAll.name}: dispatcher.set_state failed: State Update Failed (500); ` +
          `could not roll back ${drainsOnly.name}, it stays drained there (Kamailio RPC at ${drainsOnly.name}: dispatcher.set_state failed: State Update Failed (500))`,
      ),
    );
    expect([(await statesOn(first))['ms-1'], (await statesOn(second))['ms-1']]).toEqual(['drained', 'active probing']);
  });

  it('reports that nothing changed when the first node fails', async () => {
    await setStates(first, { 'ms-1': 'drained' });
    const failing = refusing(nodes[0]);
    await expect(undrainMediaServer([failing, second], target)).rejects.toThrow(
      new SipError(`ms-1: not undrained: Kamailio RPC at ${failing.name}: dispatcher.set_state failed: State Update Failed (500); no node was changed`),
    );
    expect([(await statesOn(first))['ms-1'], (await statesOn(second))['ms-1']]).toEqual(['drained', 'active probing']);
  });

  it('rejects unknown ids and answers that are not a dispatcher list', async () => {
    await expect(readMediaServerState([first], { siteId: 'east', mediaServerId: 'ms-1' })).rejects.toThrow(new SipError(`unknown site "east": Kamailio at ${first.name} serves site west`));
    await expect(readMediaServerState([first], { siteId: 'west', mediaServerId: 'ms-7' })).rejects.toThrow(new SipError('unknown media server "ms-7" at site west (media servers: ms-1, ms-2, ms-3)'));
    const garbled = new KamailioRpc('garbled:5090', async () => 'forbidden');
    await expect(readMediaServerState([first, garbled], target)).rejects.toThrow(new SipError('Kamailio RPC at garbled:5090: dispatcher.list answered with something that is not JSON: "forbidden"'));
  });
});

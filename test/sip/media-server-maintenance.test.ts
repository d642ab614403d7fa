import { DestinationState, KamailioRpc, SipError, drainMediaServer, readMediaServerState, undrainMediaServer } from '../../runtime/sip';

/** An in-memory dispatcher answering the two RPC methods the maintenance uses, as Kamailio 5.6 does. */
function dispatcherNode(name: string, states: Record<string, DestinationState>, failSetState = false) {
  const letters: Record<DestinationState, string> = { active: 'AP', trying: 'TP', inactive: 'IP', drained: 'DX' };
  const flags = new Map(Object.entries(states).map(([id, state]) => [id, letters[state]]));
  const uri = (id: string) => `sip:10.1.128.${10 + Number(id.slice(3))}:5060`;
  const rpc = new KamailioRpc(name, async (request) => {
    const { method, params, id } = JSON.parse(request) as { method: string; params: [string, number, string]; id: number };
    if (method === 'dispatcher.set_state') {
      if (failSetState) return JSON.stringify({ jsonrpc: '2.0', error: { code: 500, message: 'State Update Failed' }, id });
      const target = [...flags.keys()].find((candidate) => uri(candidate) === params[2])!;
      flags.set(target, params[0] === 'd' ? 'DX' : 'IP');
      return JSON.stringify({ jsonrpc: '2.0', result: 'Ok. Dispatcher state updated.', id });
    }
    const targets = [...flags].map(([server, serverFlags]) => ({ DEST: { URI: uri(server), FLAGS: serverFlags, PRIORITY: 0, ATTRS: { BODY: `site=west;ms=${server}` } } }));
    return JSON.stringify({ jsonrpc: '2.0', result: { NRSETS: 1, RECORDS: [{ SET: { ID: 1, TARGETS: targets } }] }, id });
  });
  return { rpc, flags };
}

const target = { siteId: 'west', mediaServerId: 'ms-1' };

describe('media-server maintenance over the dispatcher RPC', () => {
  it('drains on every node of the cluster and reads the drain back', async () => {
    const first = dispatcherNode('a:5090', { 'ms-1': 'active', 'ms-2': 'active' });
    const second = dispatcherNode('b:5090', { 'ms-1': 'active', 'ms-2': 'trying' });
    const state = await drainMediaServer([first.rpc, second.rpc], target);
    expect(state).toEqual({
      ...target,
      uri: 'sip:10.1.128.11:5060',
      nodes: [
        { node: 'a:5090', state: 'drained', probing: false },
        { node: 'b:5090', state: 'drained', probing: false },
      ],
    });
    expect(first.flags.get('ms-2')).toBe('AP');
  });

  it('undrains into probing, so the media server takes calls only once it answers', async () => {
    const node = dispatcherNode('a:5090', { 'ms-1': 'drained', 'ms-2': 'active' });
    expect((await undrainMediaServer([node.rpc], target)).nodes).toEqual([{ node: 'a:5090', state: 'inactive', probing: true }]);
  });

  it('refuses to drain the last media server taking calls on any node, changing nothing', async () => {
    const first = dispatcherNode('a:5090', { 'ms-1': 'active', 'ms-2': 'active', 'ms-3': 'active' });
    const second = dispatcherNode('b:5090', { 'ms-1': 'active', 'ms-2': 'drained', 'ms-3': 'inactive' });
    await expect(drainMediaServer([first.rpc, second.rpc], target)).rejects.toThrow(
      new SipError('refusing to drain ms-1: no other media server of site west takes new calls on b:5090 (ms-2: drained, ms-3: inactive)'),
    );
    expect(first.flags.get('ms-1')).toBe('AP');
  });

  it('says which nodes were changed when a later node fails', async () => {
    const first = dispatcherNode('a:5090', { 'ms-1': 'active', 'ms-2': 'active' });
    const second = dispatcherNode('b:5090', { 'ms-1': 'active', 'ms-2': 'active' }, true);
    await expect(drainMediaServer([first.rpc, second.rpc], target)).rejects.toThrow(
      new SipError('ms-1: drained on a:5090 only; Kamailio RPC at b:5090: dispatcher.set_state failed: State Update Failed (500)'),
    );
  });

  it('rejects unknown ids and answers that are not a dispatcher list', async () => {
    const node = dispatcherNode('a:5090', { 'ms-1': 'active', 'ms-2': 'active' });
    await expect(readMediaServerState([node.rpc], { siteId: 'east', mediaServerId: 'ms-1' })).rejects.toThrow(new SipError('unknown site "east": Kamailio at a:5090 serves site west'));
    await expect(readMediaServerState([node.rpc], { siteId: 'west', mediaServerId: 'ms-7' })).rejects.toThrow(new SipError('unknown media server "ms-7" at site west (media servers: ms-1, ms-2)'));
    const garbled = new KamailioRpc('c:5090', async () => 'forbidden');
    await expect(readMediaServerState([garbled], target)).rejects.toThrow(new SipError('Kamailio RPC at c:5090: dispatcher.list answered with something that is not JSON: "forbidden"'));
  });
});

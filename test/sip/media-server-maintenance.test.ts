import { KamailioRpc, SipError, drainMediaServer, readMediaServerState, undrainMediaServer } from '../../runtime/sip';
import { fakeDispatcherNode } from './fake-dispatcher';

const target = { siteId: 'west', mediaServerId: 'ms-1' };

describe('media-server maintenance over the dispatcher RPC', () => {
  it('drains on every node of the cluster and reads the drain back', async () => {
    const first = fakeDispatcherNode('a:5090', { 'ms-1': 'active', 'ms-2': 'active' });
    const second = fakeDispatcherNode('b:5090', { 'ms-1': 'active', 'ms-2': 'trying' });
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
    const node = fakeDispatcherNode('a:5090', { 'ms-1': 'drained', 'ms-2': 'active' });
    expect((await undrainMediaServer([node.rpc], target)).nodes).toEqual([{ node: 'a:5090', state: 'inactive', probing: true }]);
  });

  it('refuses to drain the last media server taking calls on any node, changing nothing', async () => {
    const first = fakeDispatcherNode('a:5090', { 'ms-1': 'active', 'ms-2': 'active', 'ms-3': 'active' });
    const second = fakeDispatcherNode('b:5090', { 'ms-1': 'active', 'ms-2': 'drained', 'ms-3': 'inactive' });
    await expect(drainMediaServer([first.rpc, second.rpc], target)).rejects.toThrow(
      new SipError('refusing to drain ms-1: no other media server of site west takes new calls on b:5090 (ms-2: drained, ms-3: inactive)'),
    );
    expect(first.flags.get('ms-1')).toBe('AP');
  });

  it('rolls back the nodes already drained when a later node fails, and says so', async () => {
    const first = fakeDispatcherNode('a:5090', { 'ms-1': 'active', 'ms-2': 'active' });
    const second = fakeDispatcherNode('b:5090', { 'ms-1': 'trying', 'ms-2': 'active' });
    const third = fakeDispatcherNode('c:5090', { 'ms-1': 'active', 'ms-2': 'active' }, { failSetState: () => true });
    await expect(drainMediaServer([first.rpc, second.rpc, third.rpc], target)).rejects.toThrow(
      new SipError('ms-1: not drained: Kamailio RPC at c:5090: dispatcher.set_state failed: State Update Failed (500); rolled back on b:5090, a:5090'),
    );
    expect([first.flags.get('ms-1'), second.flags.get('ms-1'), third.flags.get('ms-1')]).toEqual(['AP', 'TP', 'AP']);
  });

  it('names the nodes it could not roll back, and the state they are left in', async () => {
    const first = fakeDispatcherNode('a:5090', { 'ms-1': 'active', 'ms-2': 'active' }, { failSetState: (code) => code !== 'd' });
    const second = fakeDispatcherNode('b:5090', { 'ms-1': 'active', 'ms-2': 'active' }, { failSetState: () => true });
    await expect(drainMediaServer([first.rpc, second.rpc], target)).rejects.toThrow(
      new SipError(
        'ms-1: not drained: Kamailio RPC at b:5090: dispatcher.set_state failed: State Update Failed (500); ' +
          'could not roll back a:5090, it stays drained there (Kamailio RPC at a:5090: dispatcher.set_state failed: State Update Failed (500))',
      ),
    );
    expect(first.flags.get('ms-1')).toBe('DX');
  });

  it('reports that nothing changed when the first node fails', async () => {
    const first = fakeDispatcherNode('a:5090', { 'ms-1': 'drained', 'ms-2': 'active' }, { failSetState: () => true });
    await expect(undrainMediaServer([first.rpc], target)).rejects.toThrow(
      new SipError('ms-1: not undrained: Kamailio RPC at a:5090: dispatcher.set_state failed: State Update Failed (500); no node was changed'),
    );
  });

  it('rejects unknown ids and answers that are not a dispatcher list', async () => {
    const node = fakeDispatcherNode('a:5090', { 'ms-1': 'active', 'ms-2': 'active' });
    await expect(readMediaServerState([node.rpc], { siteId: 'east', mediaServerId: 'ms-1' })).rejects.toThrow(new SipError('unknown site "east": Kamailio at a:5090 serves site west'));
    await expect(readMediaServerState([node.rpc], { siteId: 'west', mediaServerId: 'ms-7' })).rejects.toThrow(new SipError('unknown media server "ms-7" at site west (media servers: ms-1, ms-2)'));
    const garbled = new KamailioRpc('c:5090', async () => 'forbidden');
    await expect(readMediaServerState([garbled], target)).rejects.toThrow(new SipError('Kamailio RPC at c:5090: dispatcher.list answered with something that is not JSON: "forbidden"'));
  });
});

import { createServer, type Server, type Socket } from 'net';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { waitFor } from '../support/wait-for';

// West reaches east through two addresses (one load balancer per availability zone); the first never answers.

let silent: Server;
const silentSockets: Socket[] = [];
let east: SingleNode;
let west: SingleNode;

beforeAll(async () => {
  silent = createServer((socket) => silentSockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  east = await startSingleNode('east', { west: 'http://127.0.0.1:9' }, { heartbeatMs: 60_000 });
  west = await startSingleNode('west', {}, { heartbeatMs: 60_000 }, { peers: new Map([['east', [silentUrl, `http://127.0.0.1:${east.node.peerPort}`]]]) });
});
afterAll(async () => {
  await west.stop();
  await east.stop();
  silentSockets.forEach((socket) => socket.destroy());
  await new Promise((resolve) => silent.close(resolve));
});

describe('a peer with several URLs', () => {
  it('is reached through the next URL when one times out, and stays on the one that answered', async () => {
    await east.client.put('east:zones-1', 'caller', '+15550100');
    await east.client.put('east:zones-2', 'caller', '+15550101');
    expect(await west.client.register('east:zones-1', 'agent')).toMatchObject({ status: 201, body: { upstream: 'registered' } });
    await waitFor(async () => (await east.client.participants('east:zones-1')).remote.includes('west'), { message: 'west registered at east' });
    const triedSilent = silentSockets.length;
    expect(triedSilent).toBeGreaterThanOrEqual(1);

    expect(await west.client.register('east:zones-2', 'agent')).toMatchObject({ status: 201, body: { upstream: 'registered' } });
    expect(await east.client.participants('east:zones-2')).toMatchObject({ remote: ['west'] });
    expect(silentSockets.length).toBe(triedSilent);
  });
});

import { NonceCache } from '../../runtime/cds/api/nonce-cache';
import { CdsCluster, type ClusterSite } from '../support/cds/cds-cluster';
import { sendSigned, signPeerRequest } from '../support/cds/signed-peer-request';
import { waitFor } from '../support/wait-for';

// Issue 14 item 11: no replay across a restart, and a full nonce cache never locks peers out.

describe('nonce cache', () => {
  const WINDOW_MS = 1_000;
  const STARTED_AT = 10_000;

  it('refuses a replay, and a request signed before the process started', () => {
    const cache = new NonceCache(WINDOW_MS, 10, STARTED_AT);
    expect(cache.remember('first-request-nonce', STARTED_AT + 5, STARTED_AT + 10)).toBeUndefined();
    expect(cache.remember('first-request-nonce', STARTED_AT + 5, STARTED_AT + 20)).toBe('replayed');
    expect(cache.remember('signed-before-start', STARTED_AT - 1, STARTED_AT + 20)).toBe('stale');
  });

  it('evicts the oldest nonces when full, and refuses their replays as stale', () => {
    const cache = new NonceCache(WINDOW_MS, 3, STARTED_AT);
    ['n-1', 'n-2', 'n-3'].forEach((nonce, index) => expect(cache.remember(nonce, STARTED_AT + index, STARTED_AT + 100)).toBeUndefined());
    expect(cache.remember('n-4', STARTED_AT + 3, STARTED_AT + 100)).toBeUndefined();
    expect(cache.remember('n-5', STARTED_AT + 4, STARTED_AT + 100)).toBeUndefined();
    // n-1 and n-2 were forgotten: requests signed at or before their times cannot be told from replays.
    expect(cache.remember('n-1', STARTED_AT, STARTED_AT + 100)).toBe('stale');
    expect(cache.remember('another', STARTED_AT + 1, STARTED_AT + 100)).toBe('stale');
    expect(cache.remember('n-4', STARTED_AT + 3, STARTED_AT + 100)).toBe('replayed');
    expect(cache.remember('fresh', STARTED_AT + 50, STARTED_AT + 100)).toBeUndefined();
  });
});

describe('replays across a restart', () => {
  let cluster: CdsCluster;
  let west: ClusterSite;
  let east: ClusterSite;

  beforeAll(async () => {
    cluster = await CdsCluster.start(['west', 'east']);
    [west, east] = ['west', 'east'].map((id) => cluster.site(id));
  });
  afterAll(() => cluster.stop());

  it('refuses a captured request replayed after the receiver restarts, saying why', async () => {
    const callId = 'west:replay-1';
    await west.client.put(callId, 'caller', '+15550100');
    await east.client.register(callId, 'agent');
    await waitFor(async () => (await west.client.participants(callId)).remote.includes('east'), { message: "east's registration at west" });
    const captured = signPeerRequest('east', 'west', '/v1/peer/unregister', { callId, site: 'east' }, { timestamp: west.clock.now() });

    await west.stop();
    await west.start();
    expect(await sendSigned(west.runningNode.peerPort, captured)).toMatchObject({ status: 401, body: { reason: 'stale-request', error: expect.stringMatching(/^stale request: /) } });
    expect((await west.client.participants(callId)).remote).toEqual(['east']);
  });

  it("delivers from a peer whose clock is behind the receiver's start once it has heard the receiver's time", async () => {
    east.clock.offsetMs = -30_000;
    try {
      await west.stop();
      await west.start();
      const callId = 'west:replay-2';
      await west.client.put(callId, 'caller', '+15550100');
      await east.client.register(callId, 'agent');
      await east.client.put(callId, 'note', 'from a slow clock');
      await waitFor(async () => (await west.client.call(callId))?.properties.note?.value === 'from a slow clock', { message: "east's write at west" });
      expect((await west.client.participants(callId)).remote).toEqual(['east']);
    } finally {
      east.clock.offsetMs = 0;
    }
  });
});

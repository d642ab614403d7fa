import { systemClock } from '../../runtime/cds/clock/cds-clock';
import { PeerClient, PeerRequestError } from '../../runtime/cds/network/peer-client';
import { PeerDelivery } from '../../runtime/cds/network/peer-delivery';
import { PEER_PATHS, timeReplySchema } from '../../runtime/cds/network/peer-messages';
import { testPrivateKey } from '../support/cds/test-identities';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { waitFor } from '../support/wait-for';

// A real node ("west") refuses what the test, playing peer "east", sends it through a real PeerClient.
let west: SingleNode;
let client: PeerClient;

beforeAll(async () => {
  west = await startSingleNode('west', { east: 'http://127.0.0.1:9' }, { endGraceMs: 60_000, heartbeatMs: 60_000 });
  client = new PeerClient({ site: 'east', peers: new Map([['west', [`http://127.0.0.1:${west.node.peerPort}`]]]), privateKey: testPrivateKey('east'), clock: systemClock, timeoutMs: 2_000 });
});
afterAll(async () => {
  client.close();
  await west.stop();
});

describe('delivery of a call the peer refuses as malformed', () => {
  it('gives that call up, reports it once, and goes on with the rest of the queue', async () => {
    const attempts = new Map<string, number>();
    const refused: unknown[] = [];
    const retried: unknown[] = [];
    const delivery = new PeerDelivery({
      clock: systemClock,
      backoff: { initialDelayMs: 20, maxDelayMs: 100 },
      random: () => 0.5,
      concurrency: 1,
      sendControl: () => Promise.resolve(),
      sendCall: async (callId) => {
        attempts.set(callId, (attempts.get(callId) ?? 0) + 1);
        const body = callId === 'malformed' ? { callId: 'west:x', site: 'east', entries: [] } : { site: 'east' };
        await client.post('west', callId === 'malformed' ? PEER_PATHS.updates : PEER_PATHS.heartbeat, body, timeReplySchema);
      },
      onRetry: (error) => retried.push(error),
      onRefused: (error) => refused.push(error),
    });
    try {
      delivery.markDirty('malformed');
      delivery.markDirty('fine');
      await waitFor(() => delivery.idle, { message: 'the queue to drain' });
      expect(Object.fromEntries(attempts)).toEqual({ malformed: 1, fine: 1 });
      expect(refused).toEqual([expect.objectContaining({ status: 400, message: expect.stringContaining('body.entries') })]);
      expect(refused[0]).toBeInstanceOf(PeerRequestError);
      expect(retried).toEqual([]);
    } finally {
      await delivery.stop();
    }
  });
});

import { PeerClient, PeerRequestError } from '../../runtime/cds/network/peer-client';
import { PEER_HEADERS } from '../../runtime/cds/network/peer-signature';
import { timeReplySchema, updatesReplySchema } from '../../runtime/cds/network/peer-messages';
import { systemClock } from '../../runtime/cds/clock/cds-clock';
import { sendSigned, signPeerRequest } from '../support/cds/signed-peer-request';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { testPrivateKey } from '../support/cds/test-identities';

// Issue 14 item 6: each site signs with its own key, for one receiver; only a call's participants write to it.
// West owns the calls; the tests play sites east and north (configured as peers that never answer).
let west: SingleNode;
let counter = 0;
const newCallId = (): string => `west:identity-${++counter}`;

beforeAll(async () => {
  west = await startSingleNode('west', { east: 'http://127.0.0.1:9', north: 'http://127.0.0.1:9' }, { heartbeatMs: 60_000, endGraceMs: 60_000 });
});
afterAll(() => west.stop());

const write = (callId: string, site: string, value: string) => ({ callId, site, entries: [{ kind: 'property', name: 'note', value, ts: Date.now() * 1000, site }] });

describe('peer identity', () => {
  it('refuses a site signing as another, and changes nothing', async () => {
    const callId = newCallId();
    await west.client.put(callId, 'caller', '+15550100');
    await sendSigned(west.node.peerPort, signPeerRequest('east', 'west', '/v1/peer/register', { callId, site: 'east' }));
    const forged = signPeerRequest('east', 'west', '/v1/peer/updates', write(callId, 'east', 'forged by north'), { signingSite: 'north' });
    expect(await sendSigned(west.node.peerPort, forged)).toMatchObject({ status: 401, body: { error: "unauthenticated: bad signature (not east's key)" } });
    expect((await west.client.call(callId))?.properties.note).toBeUndefined();
  });

  it('refuses a request signed for another site, even with its receiver header rewritten', async () => {
    const callId = newCallId();
    await west.client.put(callId, 'caller', '+15550100');
    const forNorth = signPeerRequest('east', 'north', '/v1/peer/register', { callId, site: 'east' });
    expect(await sendSigned(west.node.peerPort, forNorth)).toMatchObject({ status: 401, body: { error: 'unauthenticated: x-cds-receiver "north" is not this site (west)' } });
    const rewritten = { ...forNorth, headers: { ...forNorth.headers, [PEER_HEADERS.receiver]: 'west' } };
    expect(await sendSigned(west.node.peerPort, rewritten)).toMatchObject({ status: 401, body: { error: "unauthenticated: bad signature (not east's key)" } });
    expect((await west.client.participants(callId)).remote).toEqual([]);
  });

  it('never creates a call from an update: one for a call not known here is a 404', async () => {
    const callId = newCallId();
    expect(await sendSigned(west.node.peerPort, signPeerRequest('east', 'west', '/v1/peer/updates', write(callId, 'east', 'invented')))).toMatchObject({
      status: 404,
      body: { reason: 'unknown-call' },
    });
    expect(await sendSigned(west.node.peerPort, signPeerRequest('east', 'west', '/v1/peer/unregister', { callId, site: 'east' }))).toMatchObject({ status: 404 });
    expect(await west.client.call(callId)).toBeUndefined();
  });

  it('never creates a call from a registration: one for a call not known here is a 404', async () => {
    const openCalls = (await west.client.health()).openCalls;
    expect(openCalls).toEqual(expect.any(Number));
    expect(await sendSigned(west.node.peerPort, signPeerRequest('east', 'west', '/v1/peer/register', { callId: 'west:never-made', site: 'east' }))).toMatchObject({
      status: 404,
      body: { reason: 'unknown-call' },
    });
    expect(await west.client.call('west:never-made')).toBeUndefined();
    expect((await west.client.health()).openCalls).toBe(openCalls);
  });

  it("takes updates and unregistrations only from the call's participants", async () => {
    const callId = newCallId();
    await west.client.put(callId, 'caller', '+15550100');
    expect((await sendSigned(west.node.peerPort, signPeerRequest('east', 'west', '/v1/peer/register', { callId, site: 'east' }))).status).toBe(200);
    const fromNorth = await sendSigned(west.node.peerPort, signPeerRequest('north', 'west', '/v1/peer/updates', write(callId, 'north', 'not a participant')));
    expect(fromNorth).toMatchObject({ status: 403, body: { reason: 'not-a-participant', error: `site north is not a participant of call ${callId}` } });
    expect(await sendSigned(west.node.peerPort, signPeerRequest('north', 'west', '/v1/peer/unregister', { callId, site: 'north' }))).toMatchObject({ status: 403 });
    expect((await west.client.participants(callId)).remote).toEqual(['east']);
    expect((await west.client.call(callId))?.properties.note).toBeUndefined();

    expect((await sendSigned(west.node.peerPort, signPeerRequest('east', 'west', '/v1/peer/updates', write(callId, 'east', 'from a participant')))).status).toBe(200);
    // A participant's writes still in flight after it unregistered are taken.
    expect((await sendSigned(west.node.peerPort, signPeerRequest('east', 'west', '/v1/peer/unregister', { callId, site: 'east' }))).status).toBe(200);
    expect((await sendSigned(west.node.peerPort, signPeerRequest('east', 'west', '/v1/peer/updates', write(callId, 'east', 'after leaving')))).status).toBe(200);
    expect((await west.client.call(callId))?.properties.note?.value).toBe('after leaving');
  });

  it('gives a sender refusals it treats as final, and signs each request for the peer it goes to', async () => {
    const callId = newCallId();
    const client = new PeerClient({ site: 'north', peers: new Map([['west', [`http://127.0.0.1:${west.node.peerPort}`]]]), privateKey: testPrivateKey('north'), clock: systemClock, timeoutMs: 2_000 });
    try {
      await expect(client.post('west', '/v1/peer/heartbeat', { site: 'north' }, timeReplySchema)).resolves.toMatchObject({ time: expect.any(Number) });
      const refusal = await client.post('west', '/v1/peer/updates', write(callId, 'north', 'x'), updatesReplySchema).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(PeerRequestError);
      expect(refusal).toMatchObject({ status: 404, refusedAsFinal: true, retryable: false });
    } finally {
      client.close();
    }
  });
});

import { PEER_HEADERS } from '../../runtime/cds/network/peer-signature';
import { cdsRequest } from '../support/cds/cds-http';
import { EventStreamReader } from '../support/cds/event-stream-reader';
import { sendSigned, signPeerRequest } from '../support/cds/signed-peer-request';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { waitFor } from '../support/wait-for';

// West owns the calls; the test plays site "east" (configured as a peer that never answers).
let west: SingleNode;
let counter = 0;
const newCallId = (): string => `west:peer-${++counter}`;

beforeAll(async () => {
  west = await startSingleNode('west', { east: 'http://127.0.0.1:9' }, { endGraceMs: 60_000, heartbeatMs: 60_000 });
});
afterAll(() => west.stop());

const signedAsEast = (path: string, body: unknown, options?: { timestamp?: number; nonce?: string }) => signPeerRequest('east', 'west', path, body, options);

function eastWrite(callId: string, name: string, value: string, ts: number) {
  return { callId, site: 'east', entries: [{ kind: 'property', name, value, ts, site: 'east' }] };
}

async function ownerTime(): Promise<number> {
  const reply = await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/heartbeat', { site: 'east' }));
  return (reply.body as { time: number }).time;
}

describe('peer API', () => {
  it('registers a participant and returns everything held, with the owner time', async () => {
    const callId = newCallId();
    const caller = await west.client.put(callId, 'caller', '+15550100');
    const reply = await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/register', { callId, site: 'east' }));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ state: 'active', entries: [{ kind: 'property', name: 'caller', value: '+15550100', ts: caller.ts, site: 'west' }] });
    expect(Math.abs((reply.body as { time: number }).time - Date.now())).toBeLessThan(1000);
    expect((await west.client.participants(callId)).remote).toEqual(['east']);
  });

  it("stamps a participant's writes with their recording time and acknowledges them", async () => {
    const callId = newCallId();
    await west.client.register(callId, 'switch');
    await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/register', { callId, site: 'east' }));
    const ts = (await ownerTime()) * 1000;
    const reply = await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/updates', eastWrite(callId, 'crm.note', 'vip', ts)));
    expect(reply).toMatchObject({ status: 200, body: { ackedTs: ts } });
    expect((await west.client.call(callId))?.properties['crm.note']).toEqual({ value: 'vip', ts, site: 'east' });
    const fresh = await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/register', { callId, site: 'east' }));
    expect((fresh.body as { entries: Array<{ recordedTs: number }> }).entries).toEqual([expect.objectContaining({ name: 'crm.note', recordedTs: expect.any(Number) })]);
    expect((fresh.body as { entries: Array<{ recordedTs: number }> }).entries[0].recordedTs).toBeGreaterThanOrEqual(ts);
    const withSince = await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/register', { callId, site: 'east', since: 1 }));
    expect(withSince.body).toMatchObject({ entries: [] });
  });

  it('discards a duplicated update and refuses a replayed one, without notifying local clients', async () => {
    const callId = newCallId();
    await west.client.put(callId, 'caller', '+1');
    await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/register', { callId, site: 'east' }));
    const ts = (await ownerTime()) * 1000;
    const first = signedAsEast('/v1/peer/updates', eastWrite(callId, 'note', 'once', ts));
    expect((await sendSigned(west.node.peerPort, first)).status).toBe(200);
    const stream = await EventStreamReader.open(west.node.port, callId);
    try {
      await waitFor(() => stream.events.length === 1, { message: 'the snapshot' });
      expect(await sendSigned(west.node.peerPort, first)).toMatchObject({ status: 401, body: { error: 'unauthenticated: replayed request' } });
      expect((await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/updates', eastWrite(callId, 'note', 'once', ts)))).status).toBe(200);
      expect((await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/updates', eastWrite(callId, 'note', 'older', ts - 5)))).status).toBe(200);
      await west.client.put(callId, 'marker', 'last');
      await waitFor(() => stream.named('update').length === 1, { message: 'the marker update' });
      expect(stream.named('update')).toEqual([expect.objectContaining({ properties: { marker: expect.objectContaining({ value: 'last' }) } })]);
      expect((await west.client.call(callId))?.properties.note).toEqual({ value: 'once', ts, site: 'east' });
    } finally {
      stream.close();
    }
  });

  it('refuses unauthenticated, stale, malformed and oversized requests with 4xx and changes nothing', async () => {
    const callId = newCallId();
    await west.client.put(callId, 'kept', 'yes');
    const before = await west.client.call(callId);
    const ts = (await ownerTime()) * 1000;
    const body = eastWrite(callId, 'kept', 'no', ts);
    const port = west.node.peerPort;
    const good = signedAsEast('/v1/peer/updates', body);

    expect(await cdsRequest(port, 'POST', '/v1/peer/updates', body)).toMatchObject({ status: 401 });
    const wrongKey = signPeerRequest('east', 'west', '/v1/peer/updates', body, { signingSite: 'north' });
    expect(await sendSigned(port, wrongKey)).toMatchObject({ status: 401, body: { error: "unauthenticated: bad signature (not east's key)" } });
    expect(await sendSigned(port, { ...good, body: Buffer.from(JSON.stringify({ ...body, site: 'east ' })) })).toMatchObject({ status: 401 });
    expect(await sendSigned(port, { ...good, headers: { ...good.headers, [PEER_HEADERS.site]: 'south' } })).toMatchObject({ status: 401 });
    expect(await sendSigned(port, signedAsEast('/v1/peer/updates', body, { timestamp: Date.now() - 10 * 60_000 }))).toMatchObject({ status: 401 });
    expect(await sendSigned(port, { ...signedAsEast('/v1/peer/register', body), path: '/v1/peer/updates' })).toMatchObject({ status: 401 });
    expect(await sendSigned(port, signedAsEast('/v1/peer/updates', { ...body, entries: [{ kind: 'property', name: 'kept', value: 'no', ts: -1, site: 'east' }] }))).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^body\.entries\.0\.ts: /) },
    });
    expect(await sendSigned(port, signedAsEast('/v1/peer/updates', { ...body, site: 'north' }))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^body\.site: /) } });
    expect(await sendSigned(port, signedAsEast('/v1/peer/updates', { ...body, entries: [{ ...body.entries[0], site: 'west' }] }))).toMatchObject({ status: 400 });
    const huge = signedAsEast('/v1/peer/updates', { ...body, padding: 'x'.repeat(9 * 1024 * 1024) });
    expect(await sendSigned(port, huge)).toMatchObject({ status: 413 });
    expect(await sendSigned(port, signedAsEast('/v1/peer/register', { callId: 'east:not-mine', site: 'east' }))).toMatchObject({ status: 409, body: { reason: 'not-owner' } });
    expect(await west.client.call(callId)).toEqual(before);
    expect(await west.client.participants(callId)).toMatchObject({ remote: [] });
  });

  it('refuses stamps far ahead of its clock, telling the sender its time', async () => {
    const callId = newCallId();
    await west.client.register(callId, 'switch');
    await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/register', { callId, site: 'east' }));
    const reply = await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/updates', eastWrite(callId, 'note', 'from the future', (Date.now() + 30_000) * 1000)));
    expect(reply).toMatchObject({ status: 409, body: { reason: 'timestamp-ahead', time: expect.any(Number) } });
    expect((await west.client.call(callId))?.properties).toEqual({});
  });

  it('takes writes that reach an ended call after its record is archived, amending the archive before acknowledging', async () => {
    const callId = newCallId();
    await west.client.put(callId, 'x', 1);
    // East took part (wrote, then left); its write racing the end reaches the owner after the archive.
    await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/register', { callId, site: 'east' }));
    await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/updates', eastWrite(callId, 'early', 'in time', (await ownerTime()) * 1000)));
    await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/unregister', { callId, site: 'east' }));
    await west.client.end(callId);
    await waitFor(async () => (await west.archive.read(callId)) !== undefined, { message: 'the archive record' });
    const ts = (await ownerTime()) * 1000;
    expect(await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/updates', eastWrite(callId, 'late', 'cut off', ts)))).toMatchObject({ status: 200, body: { ackedTs: ts } });
    expect((await west.archive.read(callId))?.view.properties.late).toEqual({ value: 'cut off', ts, site: 'east' });
    expect(await west.client.call(callId)).toMatchObject({ state: 'ended', properties: { late: { value: 'cut off', site: 'east' } } });
  });
});

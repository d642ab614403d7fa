import { cdsRequest } from '../support/cds/cds-http';
import { EventStreamReader } from '../support/cds/event-stream-reader';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { waitFor } from '../support/wait-for';

let site: SingleNode;
let counter = 0;
const newCallId = (): string => `west:local-${++counter}`;

beforeAll(async () => {
  site = await startSingleNode('west', {}, { endGraceMs: 60_000 });
});
afterAll(() => site.stop());

describe('local API of one node', () => {
  it('registers a client, keeps properties and log entries, and shows the call', async () => {
    const callId = newCallId();
    const registered = await site.client.register(callId, 'crm-1');
    expect(registered).toMatchObject({ status: 201, body: { client: 'crm-1', upstream: 'owner', call: { callId, owner: 'west', state: 'active' } } });
    const caller = await site.client.put(callId, 'caller', '+15550100');
    const note = await site.client.put(callId, 'crm.note', { text: 'wants a callback', priority: 2 });
    const logged = await site.client.log(callId, 'transferred to billing');
    expect(note.ts).toBeGreaterThan(caller.ts);
    expect(logged.id).toBe(`${logged.ts}-west`);
    expect(await site.client.call(callId)).toEqual({
      callId,
      owner: 'west',
      state: 'active',
      properties: {
        caller: { value: '+15550100', ts: caller.ts, site: 'west' },
        'crm.note': { value: { text: 'wants a callback', priority: 2 }, ts: note.ts, site: 'west' },
      },
      logs: [{ id: logged.id, ts: logged.ts, site: 'west', entry: 'transferred to billing' }],
    });
    expect(await site.client.participants(callId)).toMatchObject({ local: ['crm-1'], remote: [], upstream: null });
    expect((await site.client.unregister(callId, 'crm-1')).status).toBe(204);
    expect(await site.client.participants(callId)).toMatchObject({ local: [] });
  });

  it('overwrites a property with the later write', async () => {
    const callId = newCallId();
    await site.client.put(callId, 'state', 'ringing');
    const later = await site.client.put(callId, 'state', 'answered');
    expect((await site.client.call(callId))?.properties.state).toEqual({ value: 'answered', ts: later.ts, site: 'west' });
  });

  it('answers 404 for a call it does not hold', async () => {
    expect(await cdsRequest(site.node.port, 'GET', '/v1/calls/west:nothing-here')).toMatchObject({ status: 404 });
    expect(await cdsRequest(site.node.port, 'GET', '/v1/calls/west:nothing-here/participants')).toMatchObject({ status: 404 });
    expect(await cdsRequest(site.node.port, 'GET', '/v1/nothing')).toMatchObject({ status: 404 });
  });

  it('refuses bad input with a 4xx naming the field, changing nothing', async () => {
    const callId = newCallId();
    await site.client.put(callId, 'kept', 1);
    const before = await site.client.call(callId);
    const port = site.node.port;
    expect(await cdsRequest(port, 'PUT', '/v1/calls/nocolon/properties/x', { value: 1 })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^callId: must be <ownerSiteId>:<unique>/) } });
    expect(await cdsRequest(port, 'PUT', `/v1/calls/${callId}/properties/bad%20name`, { value: 1 })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^name: /) } });
    expect(await cdsRequest(port, 'PUT', `/v1/calls/${callId}/properties/kept`, { val: 2 })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^body/) } });
    expect(await cdsRequest(port, 'PUT', `/v1/calls/${callId}/properties/kept`, '{"value": ')).toMatchObject({ status: 400, body: { error: 'body: is not valid JSON' } });
    expect(await cdsRequest(port, 'PUT', `/v1/calls/${callId}/properties/kept`, { value: 'x'.repeat(40_000) })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^body\.value: must be at most 32768 bytes/) } });
    expect(await cdsRequest(port, 'POST', `/v1/calls/${callId}/registrations`, { client: 'bad client' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^body\.client: /) } });
    expect(await cdsRequest(port, 'PUT', `/v1/calls/${callId}/properties/kept`, { value: 'y'.repeat(70_000) })).toMatchObject({ status: 413 });
    expect(await cdsRequest(port, 'DELETE', `/v1/calls/${callId}`)).toMatchObject({ status: 405 });
    expect(await site.client.call(callId)).toEqual(before);
  });

  it('ends a call: the record is frozen and archived once', async () => {
    const callId = newCallId();
    await site.client.put(callId, 'hangupCause', 'NORMAL_CLEARING');
    const ended = await site.client.end(callId);
    expect(ended).toMatchObject({ status: 200, body: { state: 'ended' } });
    expect(await cdsRequest(site.node.port, 'PUT', `/v1/calls/${callId}/properties/late`, { value: 1 })).toMatchObject({ status: 409, body: { reason: 'call-ended' } });
    await waitFor(async () => (await site.archive.read(callId)) !== undefined, { message: 'the archive record' });
    expect((await site.archive.read(callId))?.view).toEqual(ended.body);
    expect(await site.client.end(callId)).toMatchObject({ status: 200 });
    expect(await cdsRequest(site.node.port, 'POST', '/v1/calls/east:foreign/end')).toMatchObject({ status: 409, body: { reason: 'not-owner' } });
  });

  it('streams a snapshot, the changed entries, and the end to local clients', async () => {
    const callId = newCallId();
    await site.client.put(callId, 'caller', '+15550111');
    const stream = await EventStreamReader.open(site.node.port, callId);
    try {
      await waitFor(() => stream.events.length === 1, { message: 'the snapshot' });
      const note = await site.client.put(callId, 'note', 'hello');
      await site.client.end(callId);
      await waitFor(() => stream.named('ended').length === 1, { message: 'the ended event' });
      expect(stream.events.map((event) => event.event)).toEqual(['snapshot', 'update', 'ended']);
      expect(stream.named('snapshot')[0]).toMatchObject({ callId, properties: { caller: { value: '+15550111' } } });
      expect(stream.named('update')[0]).toEqual({ callId, properties: { note: { value: 'hello', ts: note.ts, site: 'west' } }, logs: [] });
      expect(stream.named('ended')[0]).toMatchObject({ state: 'ended', properties: { note: { value: 'hello' } } });
    } finally {
      stream.close();
    }
  });

  it('reports its health', async () => {
    expect(await site.client.health()).toMatchObject({ site: 'west', status: 'ok', pendingDeliveries: 0, peers: {} });
  });
});

import { request } from 'http';
import { cdsRequest, TEST_LOCAL_TOKEN } from '../support/cds/cds-http';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';

// Another host of the site's VPC (a media server, a SIP node) that does not hold the site's local token.
let site: SingleNode;
const callId = 'west:auth-1';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const anonymous = {};

beforeAll(async () => {
  site = await startSingleNode('west', { east: 'http://127.0.0.1:1' }, { endGraceMs: 60_000 });
  await site.client.register(callId, 'crm-1');
  await site.client.put(callId, 'caller', '+15550100');
});
afterAll(() => site.stop());

/** Status and body of an event stream request (a refused one is a JSON reply, an accepted one is left open). */
function openEvents(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path: `/v1/calls/${callId}/events`, agent: false, headers }, (response) => {
      if (response.statusCode === 200) {
        outgoing.destroy();
        resolve({ status: 200, body: '' });
        return;
      }
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('local API authentication', () => {
  it('refuses a client without the site token: it reads no record, rewrites no property, ends no call', async () => {
    const port = site.node.port;
    const refused = { status: 401, body: { error: expect.stringMatching(/^unauthenticated: [^\n]+$/), reason: 'unauthenticated' } };
    for (const headers of [anonymous, bearer('not-the-token-of-this-site-but-long-enough-to-pass'), { authorization: `Basic ${TEST_LOCAL_TOKEN}` }]) {
      expect(await cdsRequest(port, 'GET', `/v1/calls/${callId}`, undefined, headers)).toMatchObject(refused);
      expect(await cdsRequest(port, 'GET', `/v1/calls/${callId}/participants`, undefined, headers)).toMatchObject(refused);
      expect(await cdsRequest(port, 'POST', `/v1/calls/${callId}/registrations`, { client: 'intruder' }, headers)).toMatchObject(refused);
      expect(await cdsRequest(port, 'DELETE', `/v1/calls/${callId}/registrations/crm-1`, undefined, headers)).toMatchObject(refused);
      expect(await cdsRequest(port, 'PUT', `/v1/calls/${callId}/properties/caller`, { value: '+15559999' }, headers)).toMatchObject(refused);
      expect(await cdsRequest(port, 'POST', `/v1/calls/${callId}/logs`, { entry: 'forged' }, headers)).toMatchObject(refused);
      expect(await cdsRequest(port, 'POST', `/v1/calls/${callId}/end`, undefined, headers)).toMatchObject(refused);
      expect(await openEvents(port, headers)).toMatchObject({ status: 401, body: expect.stringContaining('"reason":"unauthenticated"') });
    }
    const call = await site.client.call(callId);
    expect(call).toMatchObject({ state: 'active', properties: { caller: { value: '+15550100' } }, logs: [] });
    expect(await site.client.participants(callId)).toMatchObject({ local: ['crm-1'] });
  });

  it('refuses an unauthenticated body before reading it', async () => {
    const huge = await cdsRequest(site.node.port, 'PUT', `/v1/calls/${callId}/properties/caller`, 'x'.repeat(200_000), anonymous);
    expect(huge).toMatchObject({ status: 401 });
  });

  it('serves the site token, and /health to anyone (the load balancer checks it)', async () => {
    expect(await cdsRequest(site.node.port, 'GET', `/v1/calls/${callId}`, undefined, bearer(TEST_LOCAL_TOKEN))).toMatchObject({ status: 200, body: { callId } });
    expect(await openEvents(site.node.port, bearer(TEST_LOCAL_TOKEN))).toMatchObject({ status: 200 });
    expect(await cdsRequest(site.node.port, 'GET', '/health', undefined, anonymous)).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('listens apart for peers: peer paths are not on the local port, local paths not on the peer port', async () => {
    expect(site.node.peerPort).toEqual(expect.any(Number));
    expect(site.node.peerPort).not.toBe(site.node.port);
    for (const action of ['register', 'unregister', 'updates', 'heartbeat', 'end']) {
      expect(await cdsRequest(site.node.port, 'POST', `/v1/peer/${action}`, { site: 'east', callId }, bearer(TEST_LOCAL_TOKEN))).toMatchObject({ status: 404 });
    }
    expect(await cdsRequest(site.node.peerPort, 'GET', `/v1/calls/${callId}`, undefined, bearer(TEST_LOCAL_TOKEN))).toMatchObject({ status: 404 });
    expect(await cdsRequest(site.node.peerPort, 'POST', `/v1/calls/${callId}/end`, undefined, bearer(TEST_LOCAL_TOKEN))).toMatchObject({ status: 404 });
    expect(await cdsRequest(site.node.peerPort, 'GET', '/health', undefined, anonymous)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await cdsRequest(site.node.peerPort, 'POST', '/v1/peer/heartbeat', { site: 'east' }, anonymous)).toMatchObject({ status: 401 });
    expect((await site.client.call(callId))?.state).toBe('active');
  });
});

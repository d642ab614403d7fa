import { randomUUID } from 'crypto';
import { connect, type Socket } from 'net';
import { LOCAL_JSON_DEPTH_LIMIT } from '../../runtime/cds/api/local-api';
import { PEER_BODY_LIMIT_BYTES } from '../../runtime/cds/api/peer-api';
import { MAX_ENTRY_JSON_BYTES, type CallEntry } from '../../runtime/cds/call/call-entries';
import { MAX_ENTRIES_PER_MESSAGE, updateChunks } from '../../runtime/cds/network/peer-messages';
import { PEER_HEADERS, peerSignature } from '../../runtime/cds/network/peer-signature';
import { CdsCluster } from '../support/cds/cds-cluster';
import { testPrivateKey } from '../support/cds/test-identities';
import { cdsRequest } from '../support/cds/cds-http';
import { sendSigned, signPeerRequest, type SignedRequest } from '../support/cds/signed-peer-request';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { waitFor } from '../support/wait-for';

// West owns the calls; the test plays site "east" (a configured peer that never answers) or a stranger.
let west: SingleNode;
let counter = 0;
const newCallId = (): string => `west:edge-${++counter}`;

beforeAll(async () => {
  west = await startSingleNode('west', { east: 'http://127.0.0.1:9' }, { endGraceMs: 60_000, heartbeatMs: 60_000 });
});
afterAll(() => west.stop());

const signedAsEast = (path: string, body: unknown) => signPeerRequest('east', 'west', path, body);

/** JSON nested `depth` levels deep: [[[...0...]]]. */
const nested = (depth: number): string => `${'['.repeat(depth)}0${']'.repeat(depth)}`;

/** Opens a raw connection, sends `head` and a little of the body it declares, and collects what comes back. */
async function startSending(port: number, head: string, firstBodyBytes: number): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(head);
  socket.write('x'.repeat(firstBodyBytes));
  return { socket, received: () => text, closed: () => closed };
}

describe('the CDS HTTP edge', () => {
  it('refuses an unauthenticated peer request from its headers, before the client has sent its body', async () => {
    const declared = 1024 * 1024; // within the body limit, so only authentication can refuse it early
    const head = `POST /v1/peer/updates HTTP/1.1\r\nHost: cds\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`;
    const stranger = await startSending(west.node.peerPort, head, 1024);
    try {
      await waitFor(() => stranger.received().startsWith('HTTP/1.1 401'), { timeoutMs: 3_000, message: 'a 401 while the body is still being sent' });
      expect(stranger.received()).toMatch(/connection: close/i);
      await waitFor(stranger.closed, { timeoutMs: 3_000, message: 'the server to close the connection' });
    } finally {
      stranger.socket.destroy();
    }
  });

  it('refuses a stale or unknown-site peer request before its chunked body, too', async () => {
    const head = (site: string, timestamp: number) =>
      `POST /v1/peer/updates HTTP/1.1\r\nHost: cds\r\nTransfer-Encoding: chunked\r\nx-cds-site: ${site}\r\nx-cds-timestamp: ${timestamp}\r\n` +
      `x-cds-nonce: 0123456789abcdef0123\r\nx-cds-signature: ${'0'.repeat(64)}\r\n\r\n400\r\n`;
    for (const [site, timestamp] of [
      ['south', Date.now()],
      ['east', Date.now() - 10 * 60_000],
    ] as const) {
      const sender = await startSending(west.node.peerPort, head(site, timestamp), 0x400);
      try {
        await waitFor(() => sender.received().startsWith('HTTP/1.1 401'), { timeoutMs: 3_000, message: `a 401 for ${site} at ${timestamp}` });
      } finally {
        sender.socket.destroy();
      }
    }
  });

  it('bounds the peer body by the largest updates message a site can send, and accepts that message', async () => {
    const callId = newCallId();
    const now = Date.now() * 1000;
    // Entries as large as they get: values at the entry limit, the longest names, owner stamps on them.
    const big = Array.from({ length: 200 }, (_, index): CallEntry => ({ kind: 'property', name: `${String(index).padStart(3, '0')}${'n'.repeat(125)}`, value: 'v'.repeat(MAX_ENTRY_JSON_BYTES - 2), ts: now - index, site: 'east', recordedTs: now }));
    // Many entries just under the per-message byte share: the most separators per message.
    const many = Array.from({ length: 3 * MAX_ENTRIES_PER_MESSAGE }, (_, index): CallEntry => ({ kind: 'property', name: `p${index}`, value: 'v'.repeat(400), ts: now - index, site: 'east', recordedTs: now }));
    const envelope = { callId: `${'w'.repeat(31)}:${'u'.repeat(128)}`, site: 'e'.repeat(31) };
    const largest = Math.max(...[big, many].flatMap(updateChunks).map((entries) => Buffer.byteLength(JSON.stringify({ ...envelope, entries }))));
    expect(largest).toBeGreaterThan(1_000_000);
    expect(largest).toBeLessThan(PEER_BODY_LIMIT_BYTES * 0.75);
    expect(PEER_BODY_LIMIT_BYTES).toBeLessThan(2 * largest);

    const [firstChunk] = updateChunks(big.map(({ recordedTs: _recorded, ...entry }) => entry));
    await west.client.put(callId, 'caller', '+15550100');
    expect(await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/register', { callId, site: 'east' }))).toMatchObject({ status: 200 });
    expect(await sendSigned(west.node.peerPort, signedAsEast('/v1/peer/updates', { callId, site: 'east', entries: firstChunk }))).toMatchObject({ status: 200 });
    const over = signedAsEast('/v1/peer/updates', { callId, site: 'east', entries: firstChunk, padding: 'x'.repeat(PEER_BODY_LIMIT_BYTES) });
    expect(await sendSigned(west.node.peerPort, over)).toMatchObject({ status: 413 });
  });

  it('answers deeply nested JSON with a 400 naming the depth, on the local and the peer API', async () => {
    const callId = newCallId();
    const deep = `{"value":${nested(5_000)}}`;
    expect(await cdsRequest(west.node.port, 'PUT', `/v1/calls/${callId}/properties/deep`, deep)).toEqual({
      status: 400,
      body: { error: `body: is nested deeper than ${LOCAL_JSON_DEPTH_LIMIT} levels`, reason: 'malformed' },
    });
    expect(await cdsRequest(west.node.port, 'POST', `/v1/calls/${callId}/logs`, `{"entry":${nested(5_000)}}`)).toMatchObject({ status: 400 });
    const peerBody = Buffer.from(`{"callId":"${callId}","site":"east","entries":[{"kind":"property","name":"deep","value":${nested(5_000)},"ts":1,"site":"east"}]}`);
    const reply = await sendSigned(west.node.peerPort, signRaw('/v1/peer/updates', peerBody));
    expect(reply).toMatchObject({ status: 400, body: { reason: 'malformed', error: expect.stringMatching(/^body: is nested deeper than \d+ levels$/) } });
    expect(await west.client.call(callId)).toBeUndefined();
    expect(await west.client.put(callId, 'shallow', JSON.parse(nested(LOCAL_JSON_DEPTH_LIMIT - 1)))).toMatchObject({ site: 'west' });
  });
});

describe('a value as deep as the local API takes, written at a participant', () => {
  it('reaches the owner', async () => {
    const cluster = await CdsCluster.start(['west', 'east']);
    try {
      const callId = 'west:edge-deep-replicated';
      const value: unknown = JSON.parse(nested(LOCAL_JSON_DEPTH_LIMIT - 1));
      await cluster.site('west').client.put(callId, 'caller', '+15550100');
      await cluster.site('east').client.put(callId, 'deepest', value);
      await waitFor(async () => (await cluster.site('west').client.call(callId))?.properties.deepest !== undefined, { message: 'the write at the owner' });
      expect((await cluster.site('west').client.call(callId))?.properties.deepest).toMatchObject({ value, site: 'east' });
    } finally {
      await cluster.stop();
    }
  });
});

/** Signs a body given as bytes, as east would. */
function signRaw(path: string, body: Buffer): SignedRequest {
  const timestamp = String(Date.now());
  const nonce = randomUUID();
  const headers = {
    [PEER_HEADERS.site]: 'east',
    [PEER_HEADERS.receiver]: 'west',
    [PEER_HEADERS.timestamp]: timestamp,
    [PEER_HEADERS.nonce]: nonce,
    [PEER_HEADERS.signature]: peerSignature(testPrivateKey('east'), { method: 'POST', path, site: 'east', receiver: 'west', timestamp, nonce, body }),
  };
  return { path, body, headers };
}

import { createServer, type Server, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { z } from 'zod';
import { systemClock } from '../../runtime/cds/clock/cds-clock';
import { PeerClient, PEER_REPLY_LIMIT_BYTES } from '../../runtime/cds/network/peer-client';
import { testPrivateKey } from '../support/cds/test-identities';

// A peer is another site's CDS: a broken or hostile one must not make this node buffer or recurse without limit.

let server: Server;
let reply: (response: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    reply(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

function client(): PeerClient {
  const { port } = server.address() as AddressInfo;
  return new PeerClient({ site: 'west', peers: new Map([['east', [`http://127.0.0.1:${port}`]]]), privateKey: testPrivateKey('west'), clock: systemClock, timeoutMs: 10_000 });
}

describe('replies of a peer', () => {
  it('are cut off past the reply limit: an endless reply costs at most that much memory', async () => {
    const chunk = `"${'x'.repeat(64 * 1024)}",`;
    reply = (response) => {
      let written = 0;
      response.write('[');
      const pump = () => {
        while (written < 10 * PEER_REPLY_LIMIT_BYTES && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) {
            response.once('drain', pump);
            return;
          }
        }
      };
      response.on('error', () => undefined);
      pump();
    };
    const peers = client();
    try {
      await expect(peers.post('east', '/v1/peer/heartbeat', { site: 'west' }, z.object({ time: z.number() }))).rejects.toThrow(`the reply is longer than ${PEER_REPLY_LIMIT_BYTES} bytes`);
    } finally {
      peers.close();
    }
  });

  it('are refused as malformed when nested deeper than any peer message, without parsing them', async () => {
    reply = (response) => response.end(`{"time":1,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const peers = client();
    try {
      await expect(peers.post('east', '/v1/peer/heartbeat', { site: 'west' }, z.object({ time: z.number() }))).rejects.toThrow(/east sent a malformed reply/);
    } finally {
      peers.close();
    }
  });
});

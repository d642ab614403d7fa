import { createServer, type Server } from 'http';
import type { AddressInfo } from 'net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../runtime/dynamodb/document-client';

describe('the DynamoDB document client', () => {
  let silent: Server;
  beforeAll(async () => {
    // Accepts requests and never answers: a DynamoDB endpoint that stopped responding.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('fails a request that gets no answer instead of waiting for ever', async () => {
    const client = createDocumentClient({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, requestTimeoutMs: 100 });
    try {
      await expect(client.send(new GetCommand({ TableName: 'calls', Key: { pk: 'a', sk: 'b' } }))).rejects.toThrow(/timeout|timed out/i);
    } finally {
      client.destroy();
    }
  });
});

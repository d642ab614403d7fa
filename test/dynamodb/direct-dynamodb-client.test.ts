import { createServer, request, type IncomingHttpHeaders, type Server } from 'http';
import type { AddressInfo } from 'net';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../runtime/dynamodb/document-client';
import { DirectDynamoDbClient, type RequestRetry } from '../../runtime/dynamodb/direct-dynamodb-client';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';

// The writes a node makes all the time (PutItem, BatchWriteItem, UpdateItem) sent without the SDK's middleware stack,
// against dynalite. A proxy in front of it injects what dynalite never answers (throttling, server errors, unprocessed
// items) and shows the requests as they went out.

const TABLE = 'direct-client-test';
let dynamo: LocalDynamo;

interface SeenRequest {
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
}

/** Answers from `script` first (one per request), then forwards to dynalite; records every request. */
class ScriptedProxy {
  readonly seen: SeenRequest[] = [];
  script: Array<{ status: number; body: string }> = [];
  private server?: Server;

  async start(host = '127.0.0.1'): Promise<string> {
    const upstream = new URL(dynamo.endpoint);
    this.server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        this.seen.push({ target: String(incoming.headers['x-amz-target']), headers: incoming.headers });
        const scripted = this.script.shift();
        if (scripted) {
          outgoing.writeHead(scripted.status, { 'content-type': 'application/x-amz-json-1.0' }).end(scripted.body);
          return;
        }
        const forwarded = request({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (reply) => {
          outgoing.writeHead(reply.statusCode ?? 500, reply.headers);
          reply.pipe(outgoing);
        });
        forwarded.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, host, resolve));
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const throttled = { status: 400, body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' }) };

function recordingRetry(): { retry: RequestRetry; delays: number[] } {
  const delays: number[] = [];
  return { delays, retry: { backoff: { initialDelayMs: 100, maxDelayMs: 1_000 }, random: () => 0.5, sleep: async (delayMs: number) => void delays.push(delayMs) } };
}

async function readItem(client: DynamoDBDocumentClient, pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await client.send(new GetCommand({ TableName: TABLE, Key: { pk, sk }, ConsistentRead: true }))).Item;
}

beforeAll(async () => {
  dynamo = await startLocalDynamo([TABLE]);
});
afterAll(() => dynamo.close());

describe('DirectDynamoDbClient on dynalite', () => {
  it('puts an item the document client reads back with every kind of value', async () => {
    const direct = new DirectDynamoDbClient(dynamo.client);
    const item = { pk: 'put', sk: 'all-kinds', text: 'é "quoted" \n', count: 42, ratio: 0.25, flag: true, nothing: null, bytes: Buffer.from([0, 1, 2, 255]), nested: { list: [1, 'two', { deep: Buffer.from('x') }] }, tags: new Set(['a', 'b']) };
    await direct.putItem(TABLE, { ...item, skipped: undefined });
    const stored = await readItem(dynamo.client, 'put', 'all-kinds');
    expect(stored).toEqual({ ...item, bytes: new Uint8Array([0, 1, 2, 255]), nested: { list: [1, 'two', { deep: new Uint8Array(Buffer.from('x')) }] } });
  });

  it('writes and deletes items in one batch', async () => {
    const direct = new DirectDynamoDbClient(dynamo.client);
    await direct.putItem(TABLE, { pk: 'batch', sk: 'old', value: 1 });
    const unprocessed = await direct.batchWriteItem(TABLE, [{ PutRequest: { Item: { pk: 'batch', sk: 'new', value: Buffer.from('v') } } }, { DeleteRequest: { Key: { pk: 'batch', sk: 'old' } } }]);
    expect(unprocessed).toEqual([]);
    expect(await readItem(dynamo.client, 'batch', 'new')).toEqual({ pk: 'batch', sk: 'new', value: new Uint8Array(Buffer.from('v')) });
    expect(await readItem(dynamo.client, 'batch', 'old')).toBeUndefined();
  });

  it('updates an item under a condition, and names the failed condition', async () => {
    const direct = new DirectDynamoDbClient(dynamo.client);
    await direct.putItem(TABLE, { pk: 'update', sk: 'cursor', ackedTs: 10 });
    const raise = (value: number) =>
      direct.updateItem({ TableName: TABLE, Key: { pk: 'update', sk: 'cursor' }, UpdateExpression: 'SET #a = :v', ConditionExpression: '#a < :v', ExpressionAttributeNames: { '#a': 'ackedTs' }, ExpressionAttributeValues: { ':v': value } });
    await raise(20);
    await expect(raise(15)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException', message: expect.stringMatching(/^DynamoDB UpdateItem: /) });
    expect(await readItem(dynamo.client, 'update', 'cursor')).toEqual({ pk: 'update', sk: 'cursor', ackedTs: 20 });
  });

  it("names DynamoDB's error type and the operation, and does not retry what cannot succeed", async () => {
    const proxy = new ScriptedProxy();
    const client = createDocumentClient({ endpoint: await proxy.start() });
    try {
      const { retry, delays } = recordingRetry();
      const direct = new DirectDynamoDbClient(client, retry);
      await expect(direct.putItem('no-such-table', { pk: 'a', sk: 'b' })).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringMatching(/^DynamoDB PutItem: .*\(ResourceNotFoundException, HTTP 400\)$/) });
      await expect(direct.putItem(TABLE, { pk: 'missing sort key' })).rejects.toMatchObject({ name: 'ValidationException' });
      expect(proxy.seen).toHaveLength(2);
      expect(delays).toEqual([]);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });
});

describe('DirectDynamoDbClient with injected failures', () => {
  let proxy: ScriptedProxy;
  let client: DynamoDBDocumentClient;
  beforeEach(async () => {
    proxy = new ScriptedProxy();
    client = createDocumentClient({ endpoint: await proxy.start() });
  });
  afterEach(async () => {
    client.destroy();
    await proxy.close();
  });

  it('sends a throttled or failed request again after a growing delay, and the item lands', async () => {
    proxy.script = [throttled, { status: 503, body: '<html>Service Unavailable</html>' }, { status: 500, body: JSON.stringify({ __type: 'InternalServerError', message: 'try again' }) }];
    const { retry, delays } = recordingRetry();
    await new DirectDynamoDbClient(client, retry).putItem(TABLE, { pk: 'retried', sk: 'a', value: 7 });
    expect(proxy.seen.map((seen) => seen.target)).toEqual(Array(4).fill('DynamoDB_20120810.PutItem'));
    expect(delays).toEqual([75, 150, 300]);
    expect(await readItem(dynamo.client, 'retried', 'a')).toEqual({ pk: 'retried', sk: 'a', value: 7 });
  });

  it('gives up after the document client’s number of attempts, with the last error', async () => {
    proxy.script = Array(10).fill(throttled);
    const { retry } = recordingRetry();
    await expect(new DirectDynamoDbClient(client, retry).putItem(TABLE, { pk: 'given-up', sk: 'a' })).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(proxy.seen).toHaveLength(4);
    expect(await readItem(dynamo.client, 'given-up', 'a')).toBeUndefined();
  });

  it('rejects a success whose body is not what DynamoDB answers', async () => {
    proxy.script = [{ status: 200, body: '{"UnprocessedItems": 7}' }];
    await expect(new DirectDynamoDbClient(client).batchWriteItem(TABLE, [{ DeleteRequest: { Key: { pk: 'a', sk: 'b' } } }])).rejects.toThrow(/BatchWriteItem answered an unexpected body/);
  });

  it('returns the items DynamoDB left unprocessed in native values', async () => {
    const unprocessed = [
      { PutRequest: { Item: { pk: { S: 'p' }, sk: { S: 's' }, changes: { B: Buffer.from('journal').toString('base64') }, expiresAt: { N: '1733500000' } } } },
      { DeleteRequest: { Key: { pk: { S: 'p' }, sk: { S: 'gone' } } } },
    ];
    proxy.script = [{ status: 200, body: JSON.stringify({ UnprocessedItems: { [TABLE]: unprocessed } }) }];
    const left = await new DirectDynamoDbClient(client).batchWriteItem(TABLE, [
      { PutRequest: { Item: { pk: 'p', sk: 's', changes: Buffer.from('journal'), expiresAt: 1733500000 } } },
      { DeleteRequest: { Key: { pk: 'p', sk: 'gone' } } },
    ]);
    expect(left).toEqual([{ PutRequest: { Item: { pk: 'p', sk: 's', changes: Buffer.from('journal'), expiresAt: 1733500000 } } }, { DeleteRequest: { Key: { pk: 'p', sk: 'gone' } } }]);
  });
});

describe('DirectDynamoDbClient against an endpoint that is not this machine’s stand-in', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('signs its requests with the credentials the SDK finds (Signature Version 4), and DynamoDB takes them', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDDIRECTTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'direct-test-secret';
    const proxy = new ScriptedProxy();
    // 127.0.0.2 is not one of the loopback names that get the placeholder signature.
    const client = createDocumentClient({ endpoint: await proxy.start('127.0.0.2'), region: 'eu-west-1' });
    try {
      await new DirectDynamoDbClient(client).putItem(TABLE, { pk: 'signed', sk: 'a' });
      const { headers } = proxy.seen[0];
      expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDDIRECTTEST\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=[^ ]*\bhost\b[^ ]*\bx-amz-target\b[^ ]*, Signature=[0-9a-f]{64}$/);
      expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      expect(await readItem(dynamo.client, 'signed', 'a')).toEqual({ pk: 'signed', sk: 'a' });
    } finally {
      client.destroy();
      await proxy.close();
    }
  });

  it('sends to the endpoint configured for DynamoDB in the environment, as the document client does (ECS with AWS_ENDPOINT_URL_DYNAMODB)', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDDIRECTTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'direct-test-secret';
    const proxy = new ScriptedProxy();
    process.env.AWS_ENDPOINT_URL_DYNAMODB = await proxy.start('127.0.0.2');
    const client = createDocumentClient({ region: 'eu-west-1' });
    try {
      await new DirectDynamoDbClient(client).putItem(TABLE, { pk: 'configured', sk: 'a' });
      expect(proxy.seen.map((seen) => seen.target)).toEqual(['DynamoDB_20120810.PutItem']);
      expect(await readItem(dynamo.client, 'configured', 'a')).toEqual({ pk: 'configured', sk: 'a' });
    } finally {
      client.destroy();
      await proxy.close();
    }
  });
});

import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { createServer, request, type Server } from 'http';
import type { AddressInfo } from 'net';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../../runtime/dynamodb/embedded-dynamodb';
import type { StackTable } from './synthesized-stacks';

/**
 * DynamoDB as AWS serves it: one service per region. Every request goes to the dynalite of the region its
 * signature names (the credential scope of SigV4), so a process that writes to a table of another region with a
 * client of its own region gets ResourceNotFoundException here as it would in AWS. Tables are created from the
 * stacks' `aws_dynamodb_table` resources, in their stacks' regions.
 */
export interface RegionalDynamoDb {
  /** For AWS_ENDPOINT_URL_DYNAMODB. */
  readonly endpoint: string;
  /** Every request so far: what a process really calls, to hold against its role's policy. */
  calls(): readonly DynamoCall[];
  close(): Promise<void>;
}

export interface DynamoCall {
  readonly region: string;
  /** The API action, e.g. `DescribeTable`. */
  readonly operation: string;
  readonly tables: readonly string[];
  /** Per table, the partition key values the request names (what IAM's `dynamodb:LeadingKeys` holds). */
  readonly leadingKeys: Readonly<Record<string, readonly string[]>>;
}

export async function startRegionalDynamoDb(tables: readonly StackTable[], host = '127.0.0.1'): Promise<RegionalDynamoDb> {
  const regions = new Map<string, Promise<EmbeddedDynamoDb>>();
  const regionalEndpoint = (region: string) => {
    let started = regions.get(region);
    if (!started) regions.set(region, (started = startEmbeddedDynamoDb()));
    return started;
  };
  for (const table of tables) {
    const { endpoint } = await regionalEndpoint(table.region);
    const client = new DynamoDBClient({ endpoint, region: table.region, credentials: { accessKeyId: 'contract', secretAccessKey: 'contract' } });
    await client.send(new CreateTableCommand(createTableInput(table)));
    client.destroy();
  }
  const hashKeys = new Map(tables.map((table) => [table.config.name, table.config.hash_key]));
  const calls: DynamoCall[] = [];
  const front: Server = createServer((incoming, outgoing) => {
    const region = /Credential=[^/]+\/[0-9]+\/([a-z0-9-]+)\/dynamodb\//.exec(incoming.headers.authorization ?? '')?.[1];
    if (!region) {
      outgoing.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazon.coral.service#MissingAuthenticationTokenException', message: 'Request is missing Authentication Token' }));
      return;
    }
    const body: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => body.push(chunk));
    incoming.on('end', () => {
      const payload = Buffer.concat(body);
      const tables = tablesOf(payload);
      calls.push({ region, operation: String(incoming.headers['x-amz-target'] ?? '').replace(/^DynamoDB_[0-9]+\./, ''), tables, leadingKeys: leadingKeysOf(payload, tables, hashKeys) });
      void regionalEndpoint(region).then(({ endpoint }) => {
        const target = new URL(endpoint);
        const forwarded = request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (reply) => {
          outgoing.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(outgoing);
        });
        forwarded.on('error', () => outgoing.destroy());
        forwarded.end(payload);
      });
    });
  });
  await new Promise<void>((resolve) => front.listen(0, host, resolve));
  return {
    endpoint: `http://${host}:${(front.address() as AddressInfo).port}`,
    calls: () => [...calls],
    close: async () => {
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
      await Promise.all([...regions.values()].map(async (started) => (await started).close()));
    },
  };
}

/** The tables a request names: `TableName`, or the keys of a batch's `RequestItems`. */
function tablesOf(payload: Buffer): string[] {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { TableName?: string; RequestItems?: Record<string, unknown> };
    return parsed.TableName ? [parsed.TableName] : Object.keys(parsed.RequestItems ?? {});
  } catch {
    return [];
  }
}

type AttributeValue = { S?: string; N?: string };
type KeyedItem = Record<string, AttributeValue | undefined>;
interface KeyedRequest {
  Key?: KeyedItem;
  Item?: KeyedItem;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: KeyedItem;
  RequestItems?: Record<string, Array<{ PutRequest?: { Item?: KeyedItem }; DeleteRequest?: { Key?: KeyedItem } }> | { Keys?: KeyedItem[] }>;
}

/**
 * The partition key values of an item request (`Key` or `Item`), a query's key condition (`pk = :v`) or a
 * batch's items; a query on an index names the index's key, not the table's, and is not resolved here.
 */
function leadingKeysOf(payload: Buffer, tables: readonly string[], hashKeys: ReadonlyMap<string, string>): Record<string, string[]> {
  let request: KeyedRequest;
  try {
    request = JSON.parse(payload.toString('utf8')) as KeyedRequest;
  } catch {
    return {};
  }
  const valueOf = (item: KeyedItem | undefined, table: string) => {
    const value = item?.[hashKeys.get(table) ?? ''];
    return value?.S ?? value?.N;
  };
  const keysOf = (table: string): (string | undefined)[] => {
    const batch = request.RequestItems?.[table];
    if (Array.isArray(batch)) return batch.map((write) => valueOf(write.PutRequest?.Item ?? write.DeleteRequest?.Key, table));
    if (batch) return (batch.Keys ?? []).map((key) => valueOf(key, table));
    if (request.Key || request.Item) return [valueOf(request.Key ?? request.Item, table)];
    const condition = /^\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)/.exec(request.KeyConditionExpression ?? '');
    if (!condition) return [];
    const attribute = request.ExpressionAttributeNames?.[condition[1]] ?? condition[1];
    return attribute === hashKeys.get(table) ? [valueOf({ [attribute]: request.ExpressionAttributeValues?.[condition[2]] }, table)] : [];
  };
  return Object.fromEntries(tables.map((table) => [table, [...new Set(keysOf(table).filter((key): key is string => key !== undefined))]]));
}

/** The CreateTable request equivalent to the Terraform resource (keys, attributes, indexes, billing). */
function createTableInput({ config }: StackTable): CreateTableCommandInput {
  const keySchema = (hash: string, range?: string) => [{ AttributeName: hash, KeyType: 'HASH' as const }, ...(range ? [{ AttributeName: range, KeyType: 'RANGE' as const }] : [])];
  return {
    TableName: config.name,
    BillingMode: config.billing_mode ?? 'PROVISIONED',
    ...(config.billing_mode === 'PAY_PER_REQUEST' ? {} : { ProvisionedThroughput: { ReadCapacityUnits: config.read_capacity ?? 1, WriteCapacityUnits: config.write_capacity ?? 1 } }),
    AttributeDefinitions: config.attribute.map((attribute) => ({ AttributeName: attribute.name, AttributeType: attribute.type })),
    KeySchema: keySchema(config.hash_key, config.range_key),
    ...(config.global_secondary_index?.length
      ? {
          GlobalSecondaryIndexes: config.global_secondary_index.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.hash_key, index.range_key),
            Projection: { ProjectionType: index.projection_type, ...(index.non_key_attributes ? { NonKeyAttributes: index.non_key_attributes } : {}) },
          })),
        }
      : {}),
  };
}

import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface StateTableConnection {
  /** Omit for AWS itself; set for dynalite or another local endpoint. */
  readonly endpoint?: string;
  readonly region: string;
}

/** Credentials a local endpoint accepts (dynalite checks only that some are present). */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A document client for the state table; on a local endpoint with placeholder credentials. */
export function stateTableClient(connection: StateTableConnection): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: connection.region,
    ...(connection.endpoint === undefined ? {} : { endpoint: connection.endpoint, credentials: LOCAL_CREDENTIALS }),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * Creates the table as the infrastructure defines it (string `pk`/`sk`, on-demand) unless it exists, and
 * waits until it is active. For local endpoints only: in AWS, Terraform owns the table (and its TTL).
 */
export async function ensureStateTable(client: Pick<DynamoDBDocumentClient, 'send'>, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (Table?.TableStatus !== 'ACTIVE') throw new Error(`state table ${tableName} is ${Table?.TableStatus ?? 'missing'}, not ACTIVE`);
}

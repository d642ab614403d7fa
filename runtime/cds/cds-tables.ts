import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CdsClock } from './cds-clock';

const TABLE_READY_POLL_MS = 100;
const TABLE_READY_TIMEOUT_MS = 60_000;

/** Whether the table exists (in any state). */
export async function tableExists(client: DynamoDBDocumentClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/**
 * Creates a `pk`/`sk` string-keyed on-demand table unless it exists, and waits until it is active. The node's
 * table and the archive share this shape (DurableTable in Terraform).
 */
export async function ensureTable(client: DynamoDBDocumentClient, tableName: string, clock: CdsClock): Promise<void> {
  if (!(await tableExists(client, tableName))) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      );
    } catch (error) {
      // Another node created it meanwhile.
      if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
    }
  }
  const deadline = clock.now() + TABLE_READY_TIMEOUT_MS;
  for (;;) {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (table?.TableStatus === 'ACTIVE') return;
    if (clock.now() > deadline) throw new Error(`table ${tableName} is still ${table?.TableStatus} after ${TABLE_READY_TIMEOUT_MS} ms`);
    await new Promise<void>((resolve) => clock.schedule(resolve, TABLE_READY_POLL_MS));
  }
}

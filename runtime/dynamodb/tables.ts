import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const TABLE_READY_POLL_MS = 100;
const TABLE_READY_TIMEOUT_MS = 60_000;

/** Whether the table exists (in any state). `signal` abandons the request. */
export async function tableExists(client: Pick<DynamoDBDocumentClient, 'send'>, tableName: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal: signal });
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/**
 * Creates a `pk`/`sk` string-keyed on-demand table unless it exists, and waits until it is active. Every
 * table of the runtime has this shape (DurableTable in Terraform, which owns the tables and their TTL in AWS).
 * `signal` abandons the requests and the wait.
 */
export async function ensureTable(client: Pick<DynamoDBDocumentClient, 'send'>, tableName: string, signal?: AbortSignal): Promise<void> {
  if (!(await tableExists(client, tableName, signal))) {
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
        { abortSignal: signal },
      );
    } catch (error) {
      // Created by another process meanwhile.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  const deadline = Date.now() + TABLE_READY_TIMEOUT_MS;
  for (;;) {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal: signal });
    if (table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} is still ${table?.TableStatus ?? 'missing'} after ${TABLE_READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, TABLE_READY_POLL_MS));
  }
}

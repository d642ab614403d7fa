import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../../runtime/dynamodb/document-client';
import { startEmbeddedDynamoDb } from '../../../runtime/dynamodb/embedded-dynamodb';
import { ensureTable } from '../../../runtime/dynamodb/tables';

/** A dynalite in this process with a document client and created tables; `close` releases both. */
export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBDocumentClient;
  close(): Promise<void>;
}

export async function startLocalDynamo(tables: readonly string[]): Promise<LocalDynamo> {
  const server = await startEmbeddedDynamoDb();
  const client = createDocumentClient({ endpoint: server.endpoint });
  for (const table of tables) await ensureTable(client, table);
  return {
    endpoint: server.endpoint,
    client,
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}

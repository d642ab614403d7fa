import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTable } from '../../../runtime/cds/cds-tables';
import { systemClock } from '../../../runtime/cds/cds-clock';
import { createDocumentClient } from '../../../runtime/cds/dynamo-connection';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../../runtime/cds/embedded-dynamo';

/** A dynalite in this process with a document client and created tables; `close` releases both. */
export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBDocumentClient;
  close(): Promise<void>;
}

export async function startLocalDynamo(tables: readonly string[]): Promise<LocalDynamo> {
  const server: EmbeddedDynamo = await startEmbeddedDynamo();
  const client = createDocumentClient(server.endpoint);
  for (const table of tables) await ensureTable(client, table, systemClock);
  return {
    endpoint: server.endpoint,
    client,
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}

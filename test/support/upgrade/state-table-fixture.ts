import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../../runtime/shared/clock';
import { createDocumentClient } from '../../../runtime/dynamodb/document-client';
import { startEmbeddedDynamoDb } from '../../../runtime/dynamodb/embedded-dynamodb';
import { ensureTable } from '../../../runtime/dynamodb/tables';
import { DynamoUpgradeStateStore } from '../../../runtime/upgrade/state/upgrade-state-store';

export interface StateTable {
  readonly endpoint: string;
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
  store(clock: Clock): DynamoUpgradeStateStore;
  close(): Promise<void>;
}

let tables = 0;

/** The orchestrator's state table on a dynalite of its own (127.0.0.1, ephemeral port). */
export async function startStateTable(): Promise<StateTable> {
  const dynamo = await startEmbeddedDynamoDb();
  const client = createDocumentClient({ endpoint: dynamo.endpoint });
  const tableName = `upgrades-${++tables}`;
  await ensureTable(client, tableName);
  return {
    endpoint: dynamo.endpoint,
    tableName,
    client,
    store: (clock) => new DynamoUpgradeStateStore({ client, tableName, clock }),
    close: async () => {
      client.destroy();
      await dynamo.close();
    },
  };
}

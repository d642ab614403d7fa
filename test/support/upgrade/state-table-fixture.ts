import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../../runtime/upgrade/clock';
import { startEmbeddedDynamoDb } from '../../../runtime/upgrade/embedded-dynamodb';
import { ensureStateTable, stateTableClient } from '../../../runtime/upgrade/state-table';
import { DynamoUpgradeStateStore } from '../../../runtime/upgrade/upgrade-state-store';

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
  const client = stateTableClient({ endpoint: dynamo.endpoint, region: 'us-east-1' });
  const tableName = `upgrades-${++tables}`;
  await ensureStateTable(client, tableName);
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

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../dynamodb/document-client';
import { startEmbeddedDynamoDb } from '../dynamodb/embedded-dynamodb';
import { ensureTable } from '../dynamodb/tables';

/** An embedded DynamoDB (dynalite) and a client of it: what `upgrade`, `demo` and `cds serve` use when given no DynamoDB. */
export interface EmbeddedDatabase {
  readonly endpoint: string;
  readonly client: DynamoDBDocumentClient;
  /** Destroys the client, then stops dynalite. */
  close(): Promise<void>;
}

/** Starts dynalite (in memory, or on disk in `path`) with a client, and creates `tables`; a failure leaves nothing open. */
export async function openEmbeddedDatabase(options: { readonly path?: string; readonly tables?: readonly string[] } = {}): Promise<EmbeddedDatabase> {
  const dynamo = await startEmbeddedDynamoDb({ path: options.path });
  const client = createDocumentClient({ endpoint: dynamo.endpoint });
  const close = async (): Promise<void> => {
    client.destroy();
    await dynamo.close();
  };
  try {
    for (const table of options.tables ?? []) await ensureTable(client, table);
  } catch (error) {
    await close();
    throw error;
  }
  return { endpoint: dynamo.endpoint, client, close };
}

import { createDocumentClient } from '../dynamodb/document-client';
import { UsageError } from './cli-error';
import { openEmbeddedDatabase } from './embedded-database';

/** Where an upgrade keeps its state: an existing table, or an embedded DynamoDB (in memory, or on disk in --state-dir). */
export interface UpgradeStateOptionValues {
  readonly 'dynamodb-endpoint'?: string;
  readonly table?: string;
  readonly region?: string;
  readonly 'state-dir'?: string;
}

const EMBEDDED_TABLE = 'voiceplane-upgrades';

export interface OpenUpgradeState {
  readonly client: ReturnType<typeof createDocumentClient>;
  readonly tableName: string;
  close(): Promise<void>;
}

/** Opens the state the options name; the caller closes it. */
export async function openUpgradeState(values: UpgradeStateOptionValues, env: Readonly<Record<string, string | undefined>>): Promise<OpenUpgradeState> {
  const endpoint = values['dynamodb-endpoint'];
  if (values.table !== undefined) {
    const region = values.region ?? env.AWS_REGION ?? (endpoint === undefined ? undefined : 'us-east-1');
    if (region === undefined) throw new UsageError('--region: required with --table (or set AWS_REGION)');
    const client = createDocumentClient({ endpoint, region });
    return { client, tableName: values.table, close: async () => client.destroy() };
  }
  if (endpoint !== undefined) throw new UsageError('--table: required with --dynamodb-endpoint');
  const embedded = await openEmbeddedDatabase({ path: values['state-dir'], tables: [EMBEDDED_TABLE] });
  return { client: embedded.client, tableName: EMBEDDED_TABLE, close: () => embedded.close() };
}

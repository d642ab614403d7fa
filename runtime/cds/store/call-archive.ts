import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { CallEntry } from '../call/call-entries';
import { CallRecord, type CallView } from '../call/call-record';
import { isConditionalCheckFailed, queryAll } from '../../dynamodb/operations';
import { callIdSchema, siteIdSchema } from '../call/identifiers';
import { callPk, entryItem, parseCallItems } from './store-items';

/** Archive writes in flight at once for one call: bounded so a long call does not burst the table. */
const PARALLEL_WRITES = 16;

/** The record written to the data center's CDR archive once per ended call. */
export interface ArchivedCall {
  readonly view: CallView;
  /** The owner's stamp of the end of call. */
  readonly endedTs: number;
}

export interface CallArchive {
  /** Writes the final record unless the call is archived already (a retry after a crash). */
  archive(callId: string, owner: string, endedTs: number, entries: readonly CallEntry[]): Promise<'written' | 'already-archived'>;
  /**
   * Writes the owner's record again once writes reached it after the call was archived (a participant cut off
   * past the end); the commit item counts the amendments. Rejects while the call is not archived yet.
   */
  amend(callId: string, owner: string, endedTs: number, entries: readonly CallEntry[]): Promise<void>;
  read(callId: string): Promise<ArchivedCall | undefined>;
}

const RECORD_SK = 'RECORD';
const recordItem = z.object({ callId: callIdSchema, owner: siteIdSchema, endedTs: z.number(), entryCount: z.number(), amendments: z.number().optional() });

/**
 * The archive in DynamoDB, keyed by call id (deterministic). Entries go first, one item each (a long call's
 * log can exceed the 400 KB item limit); the `RECORD` item, written last with a condition that it does not
 * exist, is the commit: exactly one per call, and entries rewritten by a retry are identical (the final
 * record is frozen once the call has ended). An amendment only adds: a property's item is rewritten with the
 * owner's newer winner, log entries are added, nothing is deleted. Every entry is written conditionally (hence
 * no BatchWriteItem): a log entry only if absent, a property only over an older one, so no write rolls an
 * archived entry back.
 */
export class DynamoCallArchive implements CallArchive {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async archive(callId: string, owner: string, endedTs: number, entries: readonly CallEntry[]): Promise<'written' | 'already-archived'> {
    if (await this.exists(callId)) return 'already-archived';
    await this.putEntries(callId, entries);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: callPk(callId), sk: RECORD_SK, callId, owner, endedTs, entryCount: entries.length },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'written';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'already-archived';
      throw error;
    }
  }

  async amend(callId: string, owner: string, endedTs: number, entries: readonly CallEntry[]): Promise<void> {
    if (!(await this.exists(callId))) throw new Error(`call ${callId} is not archived yet: its amendment waits`);
    await this.putEntries(callId, entries);
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: callPk(callId), sk: RECORD_SK },
        UpdateExpression: 'SET entryCount = :count, #owner = :owner, endedTs = :endedTs ADD amendments :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':count': entries.length, ':owner': owner, ':endedTs': endedTs, ':one': 1 },
      }),
    );
  }

  async read(callId: string): Promise<ArchivedCall | undefined> {
    const items = await queryAll(this.client, { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': callPk(callId) }, ConsistentRead: true });
    const marker = items.find((item) => item.sk === RECORD_SK);
    if (!marker) return undefined;
    const record = recordItem.parse(marker);
    const problems: string[] = [];
    const entryItems = items.filter((item) => item.sk !== RECORD_SK);
    const parsed = parseCallItems([{ sk: 'META', callId, owner: record.owner, state: 'ended' }, ...entryItems], (sk, problem) => problems.push(`${sk}: ${problem}`));
    if (!parsed || problems.length > 0) throw new Error(`archive of ${callId} is malformed: ${problems.join('; ')}`);
    const call = new CallRecord(callId, record.owner, 'ended');
    call.apply(parsed.entries);
    return { view: call.view(), endedTs: record.endedTs };
  }

  private async putEntries(callId: string, entries: readonly CallEntry[]): Promise<void> {
    for (let start = 0; start < entries.length; start += PARALLEL_WRITES) {
      await Promise.all(entries.slice(start, start + PARALLEL_WRITES).map((entry) => this.putEntry(callId, entry)));
    }
  }

  /** Writes an entry unless the archive holds it already or a property's newer winner; that is not an error. */
  private async putEntry(callId: string, entry: CallEntry): Promise<void> {
    // Archive entries never expire: no TTL attribute.
    const guard =
      entry.kind === 'log'
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            // The rule of supersedes(): a later timestamp wins, the greater site id breaks a tie.
            ConditionExpression: 'attribute_not_exists(pk) OR #ts < :ts OR (#ts = :ts AND #site < :site)',
            ExpressionAttributeNames: { '#ts': 'ts', '#site': 'site' },
            ExpressionAttributeValues: { ':ts': entry.ts, ':site': entry.site },
          };
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: entryItem(callId, entry, undefined), ...guard }));
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  private async exists(callId: string): Promise<boolean> {
    const { Item: item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: callPk(callId), sk: RECORD_SK }, ConsistentRead: true }));
    return item !== undefined;
  }
}

import { randomUUID } from 'crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CallEntry } from '../call/call-entries';
import type { CdsClock } from '../clock/cds-clock';
import type { CdsStore, EntryWriteStats, StoredCall, StoredCallMeta, StoredParticipant, StoredUpstream, UpstreamCursor } from './cds-store';
import { OUTBOX_PATHS, outboxTopic, type NewOutboxMessage, type OutboxMessage } from '../network/outbox-messages';
import { EntryJournal } from './entry-journal';
import { DirectDynamoDbClient } from '../../dynamodb/direct-dynamodb-client';
import { isConditionalCheckFailed, queryAll } from '../../dynamodb/operations';
import { FencedError, type ClockHighWaterMark } from '../clock/hybrid-clock';
import {
  CLOCK_SK,
  META_SK,
  NODE_PK,
  OPEN_CALLS_PK,
  OUTBOX_PK,
  UPSTREAM_SK,
  callPk,
  clientSk,
  clockItem,
  entrySk,
  outboxSk,
  parseCallItems,
  parseOutboxItem,
  participantSk,
  type Item,
} from './store-items';

export interface DynamoCdsStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly clock: CdsClock;
  /** Items carry `expiresAt` (epoch seconds) this long after their last write; the table's TTL deletes them. */
  readonly retentionMs: number;
  /** An item that does not parse: it is skipped, never deleted. */
  readonly onInvalidItem: (key: string, problem: string) => void;
  /** A compaction of the entry journal failed (it is tried again; nothing is lost). @default ignored */
  readonly onCompactionFailed?: (error: unknown) => void;
  /** Journaled changes held beyond this are compacted at once (see EntryJournalOptions). @default DEFAULT_MAX_PENDING_CHANGES */
  readonly maxPendingChanges?: number;
}

const CLOCK_KEY = { pk: NODE_PK, sk: CLOCK_SK };

/**
 * The node's state in its DynamoDB table (see store-items.ts for the layout); call entries are written through a
 * journal (see EntryJournal). Once another node has taken the table (see ClockHighWaterMark) every write is refused
 * with FencedError.
 */
export class DynamoCdsStore implements CdsStore {
  readonly clockHighWaterMark: ClockHighWaterMark;
  readonly fenced: Promise<FencedError>;
  /** Written onto the clock item by `take`: the owner the table's other writes are fenced on. */
  private readonly incarnation = randomUUID();
  private fence?: FencedError;
  private announceFence: (error: FencedError) => void = () => undefined;
  private readonly journal: EntryJournal;
  /** The writes made all the time (journal, entries, delivery cursors), without the document client's per-command overhead. */
  private readonly direct: DirectDynamoDbClient;
  /** The journal an earlier run left, read once before the first read or write of entries. */
  private journalReplayed?: Promise<void>;

  constructor(private readonly options: DynamoCdsStoreOptions) {
    this.direct = new DirectDynamoDbClient(options.client);
    this.journal = new EntryJournal({
      client: options.client,
      direct: this.direct,
      tableName: options.tableName,
      clock: options.clock,
      expiresAt: () => this.expiresAt(),
      incarnation: this.incarnation,
      checkWritable: () => this.checkWritable(),
      confirmOwnership: () => this.confirmOwnership(),
      onInvalidItem: options.onInvalidItem,
      onCompactionFailed: options.onCompactionFailed ?? (() => undefined),
      maxPendingChanges: options.maxPendingChanges,
    });
    this.fenced = new Promise((resolve) => (this.announceFence = resolve));
    this.clockHighWaterMark = { take: () => this.takeTable(), raise: (ms) => this.raiseHighWaterMark(ms) };
  }

  async loadCall(callId: string): Promise<StoredCall | undefined> {
    await this.replayJournal();
    const items = await this.journal.consistentRead(() =>
      queryAll(this.client, { TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': callPk(callId) }, ConsistentRead: true }),
    );
    const stored = parseCallItems(items, (sk, problem) => this.options.onInvalidItem(`${callPk(callId)}/${sk}`, problem));
    return stored && { ...stored, entries: this.journal.overlay(callId, stored.entries) };
  }

  async createCall(meta: StoredCallMeta): Promise<void> {
    await this.conditional(() =>
      this.writable().send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: callPk(meta.callId), sk: META_SK, ...meta, expiresAt: this.expiresAt() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    await this.reopenCall(meta.callId);
  }

  async reopenCall(callId: string): Promise<void> {
    await this.writable().send(new PutCommand({ TableName: this.table, Item: { pk: OPEN_CALLS_PK, sk: callId, expiresAt: this.expiresAt() } }));
  }

  async storeEntries(callId: string, entries: readonly CallEntry[]): Promise<void> {
    await this.replayJournal();
    await this.journal.append(callId, entries, []);
  }

  async replaceEntries(callId: string, final: readonly CallEntry[], held: readonly CallEntry[]): Promise<void> {
    await this.replayJournal();
    const keep = new Set(final.map(entrySk));
    await this.journal.append(callId, final, held.map(entrySk).filter((sk) => !keep.has(sk)));
  }

  entryWriteStats(): EntryWriteStats {
    return this.journal.stats;
  }

  /** Stops the journal's compaction; what it holds stays durable for the next run. */
  async close(): Promise<void> {
    await this.journal.close();
  }

  async checkReachable(): Promise<void> {
    await this.confirmOwnership();
  }

  async markEnded(callId: string, endedTs: number): Promise<void> {
    await this.writable().send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: callPk(callId), sk: META_SK },
        UpdateExpression: 'SET #state = :ended, endedTs = :endedTs, expiresAt = :expiresAt',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':ended': 'ended', ':endedTs': endedTs, ':expiresAt': this.expiresAt() },
      }),
    );
  }

  async closeCall(callId: string): Promise<void> {
    await this.writable().send(new DeleteCommand({ TableName: this.table, Key: { pk: OPEN_CALLS_PK, sk: callId } }));
  }

  async listOpenCalls(): Promise<string[]> {
    const items = await queryAll(this.client, { TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': OPEN_CALLS_PK }, ConsistentRead: true });
    return items.map((item) => String(item.sk));
  }

  async putClient(callId: string, client: string): Promise<void> {
    await this.put({ pk: callPk(callId), sk: clientSk(client), client });
  }

  async deleteClient(callId: string, client: string): Promise<void> {
    await this.writable().send(new DeleteCommand({ TableName: this.table, Key: { pk: callPk(callId), sk: clientSk(client) } }));
  }

  async putParticipant(callId: string, participant: StoredParticipant): Promise<void> {
    await this.put({ pk: callPk(callId), sk: participantSk(participant.site), ...participant });
  }

  async advanceParticipant(callId: string, site: string, ackedTs: number): Promise<void> {
    await this.raise(callPk(callId), participantSk(site), 'ackedTs', ackedTs);
  }

  async deleteParticipant(callId: string, site: string): Promise<void> {
    await this.writable().send(new DeleteCommand({ TableName: this.table, Key: { pk: callPk(callId), sk: participantSk(site) } }));
  }

  async putUpstream(callId: string, upstream: StoredUpstream): Promise<void> {
    await this.put({ pk: callPk(callId), sk: UPSTREAM_SK, ...upstream });
  }

  async advanceUpstream(callId: string, cursor: UpstreamCursor, value: number): Promise<void> {
    await this.raise(callPk(callId), UPSTREAM_SK, cursor, value);
  }

  async putOutbox(message: NewOutboxMessage): Promise<OutboxMessage> {
    const topic = outboxTopic(message.kind);
    const { Attributes: attributes } = await this.writable().send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: OUTBOX_PK, sk: outboxSk(message.peer, message.callId, topic) },
        UpdateExpression: 'SET peer = :peer, callId = :callId, topic = :topic, #path = :path, body = :body ADD version :one',
        ExpressionAttributeNames: { '#path': 'path' },
        ExpressionAttributeValues: { ':peer': message.peer, ':callId': message.callId, ':topic': topic, ':path': OUTBOX_PATHS[message.kind], ':body': JSON.stringify(message.body), ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { ...message, version: Number(attributes?.version) } as OutboxMessage;
  }

  async listOutbox(): Promise<OutboxMessage[]> {
    const items = await queryAll(this.client, { TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': OUTBOX_PK }, ConsistentRead: true });
    const messages: OutboxMessage[] = [];
    for (const item of items) {
      try {
        messages.push(parseOutboxItem(item));
      } catch (error) {
        this.options.onInvalidItem(`${OUTBOX_PK}/${String(item.sk)}`, String(error));
      }
    }
    return messages;
  }

  async deleteOutbox(message: OutboxMessage): Promise<void> {
    await this.conditional(() =>
      this.writable().send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: OUTBOX_PK, sk: outboxSk(message.peer, message.callId, outboxTopic(message.kind)) },
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': message.version },
        }),
      ),
    );
  }

  private async takeTable(): Promise<number | undefined> {
    const { Attributes: item } = await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: CLOCK_KEY,
        UpdateExpression: 'SET #owner = :me',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':me': this.incarnation },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return parseClockItem(item).highWaterMs;
  }

  private async raiseHighWaterMark(ms: number): Promise<void> {
    const raised = await this.conditional(() =>
      this.writable().send(
        new UpdateCommand({
          TableName: this.table,
          Key: CLOCK_KEY,
          UpdateExpression: 'SET highWaterMs = :ms, #owner = :me',
          // No owner at all: the item was lost with the table's data, and no other node has claimed it since.
          ConditionExpression: '(attribute_not_exists(#owner) OR #owner = :me) AND (attribute_not_exists(highWaterMs) OR highWaterMs < :ms)',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':ms': ms, ':me': this.incarnation },
        }),
      ),
    );
    // Refused because a higher mark is stored (nothing to do) or because another node owns the table now.
    if (!raised) await this.confirmOwnership();
  }

  /** Throws FencedError (and refuses every write from then on) when another node has taken the table. */
  private async confirmOwnership(): Promise<void> {
    const { Item: item } = await this.client.send(new GetCommand({ TableName: this.table, Key: CLOCK_KEY, ConsistentRead: true }));
    const { owner } = parseClockItem(item);
    if (owner === undefined || owner === this.incarnation) return;
    this.fence ??= new FencedError(this.table);
    this.announceFence(this.fence);
    throw this.fence;
  }

  /** The client for a write: none once another node has taken the table. */
  private writable(): DynamoDBDocumentClient {
    this.checkWritable();
    return this.client;
  }

  private checkWritable(): void {
    if (this.fence) throw this.fence;
  }

  private replayJournal(): Promise<void> {
    this.journalReplayed ??= this.journal.replay().catch((error: unknown) => {
      this.journalReplayed = undefined;
      throw error;
    });
    return this.journalReplayed;
  }

  private get client(): DynamoDBDocumentClient {
    return this.options.client;
  }

  private get table(): string {
    return this.options.tableName;
  }

  private expiresAt(): number {
    return Math.ceil((this.options.clock.now() + this.options.retentionMs) / 1000);
  }

  private async put(item: Item): Promise<void> {
    await this.writable().send(new PutCommand({ TableName: this.table, Item: { ...item, expiresAt: this.expiresAt() } }));
  }

  /** Raises a numeric attribute of an existing item; a higher value already stored (or no item) leaves it. */
  private async raise(pk: string, sk: string, attribute: string, value: number): Promise<void> {
    this.checkWritable();
    await this.conditional(() =>
      this.direct.updateItem({
        TableName: this.table,
        Key: { pk, sk },
        UpdateExpression: 'SET #attribute = :value',
        ConditionExpression: 'attribute_exists(pk) AND #attribute < :value',
        ExpressionAttributeNames: { '#attribute': attribute },
        ExpressionAttributeValues: { ':value': value },
      }),
    );
  }

  /** Runs a conditional write; false when its condition did not hold. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

function parseClockItem(item: Item | undefined): { highWaterMs?: number; owner?: string } {
  const parsed = clockItem.safeParse(item ?? {});
  if (!parsed.success) throw new Error(`clock high-water mark item is malformed: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

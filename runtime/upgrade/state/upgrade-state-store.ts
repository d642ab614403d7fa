import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'crypto';
import type { z } from 'zod';
import type { Clock } from '../../shared/clock';
import { describeIssues } from '../request/input-error';
import {
  type AuditEntry,
  auditEntrySchema,
  type AuditEvent,
  type GroupKey,
  type GroupRecord,
  type GroupRecordChanges,
  groupRecordSchema,
  type Lease,
  historyEntrySchema,
  leaseSchema,
  type UpgradeRecord,
  upgradeRecordSchema,
} from './upgrade-records';
import { UpgradeStepError, type GroupUpgradePhase } from '../flow/upgrade-steps';

/** A phase transition lost to another writer (or was asked from the wrong phase). */
export class PhaseConflictError extends Error {
  constructor(readonly key: GroupKey, readonly expected: readonly GroupUpgradePhase[], readonly actual: GroupUpgradePhase | undefined) {
    super(`${key.mediaServerId} group ${key.groupId}: expected phase ${expected.join('|')}, found ${actual ?? 'no record'}`);
    this.name = 'PhaseConflictError';
  }
}

/** A stored item that does not have the shape this code writes (hand-edited, or written by another version). */
export class CorruptStateError extends Error {
  constructor(what: string, problem: string) {
    super(`upgrade state table: ${what} is malformed: ${problem}`);
    this.name = 'CorruptStateError';
  }
}

/** Upgrade state, leases and audit trail. Every phase change is a conditional write on the expected phase. */
export interface UpgradeStateStore {
  /** Stores the upgrade's request unless the upgrade exists; resolves with the stored record either way. */
  ensureUpgrade(upgradeId: string, requestJson: string): Promise<UpgradeRecord>;
  getUpgrade(upgradeId: string): Promise<UpgradeRecord | undefined>;
  /** Records why no further group of the upgrade may start (the first reason stays); the upgrade must exist. */
  haltUpgrade(upgradeId: string, reason: string): Promise<void>;
  /** The `limit` most recent upgrades, newest first. */
  listUpgrades(limit: number): Promise<UpgradeRecord[]>;
  getGroup(key: GroupKey): Promise<GroupRecord | undefined>;
  /** Creates the group's record in phase `pending` unless it exists; resolves with the stored record. */
  ensureGroup(key: GroupKey, release: { image: string; version: string }): Promise<GroupRecord>;
  /** Applies `changes` (and moves to `to`) only if the group is in one of `from`; throws PhaseConflictError otherwise. */
  updateGroup(key: GroupKey, from: readonly GroupUpgradePhase[], changes: GroupRecordChanges, to?: GroupUpgradePhase): Promise<GroupRecord>;
  listGroups(upgradeId: string): Promise<GroupRecord[]>;
  /** Takes or renews the media server's lease for `owner`; throws `LeaseHeld` while another owner's lease runs. */
  acquireLease(mediaServerId: string, owner: string, groupId: string, ttlMs: number): Promise<void>;
  /** Gives the lease up if `owner` holds it. */
  releaseLease(mediaServerId: string, owner: string): Promise<void>;
  getLease(mediaServerId: string): Promise<Lease | undefined>;
  appendAudit(key: GroupKey, event: AuditEvent): Promise<void>;
  /** The upgrade's audit trail in time order, optionally of one media server or one group. */
  audit(upgradeId: string, filter?: { mediaServerId: string; groupId?: string }): Promise<AuditEntry[]>;
}

export interface DynamoUpgradeStateStoreOptions {
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly tableName: string;
  readonly clock: Clock;
  /** Items expire (DynamoDB TTL on `expiresAt`) this long after their last write (default 90 days). */
  readonly retentionDays?: number;
}

const DEFAULT_RETENTION_DAYS = 90;
const MS_PER_DAY = 86_400_000;

const upgradeKey = (upgradeId: string) => ({ pk: `upgrade#${upgradeId}`, sk: 'upgrade' });
const groupKey = (key: GroupKey) => ({ pk: `upgrade#${key.upgradeId}`, sk: `group#${key.mediaServerId}#${key.groupId}` });
const leaseKey = (mediaServerId: string) => ({ pk: `lease#${mediaServerId}`, sk: 'lease' });
/** Every upgrade, in start order: one partition read newest first by `upgrade history`. */
const HISTORY_PARTITION = 'history';
const historyKey = (record: { upgradeId: string; createdAt: number }) => ({ pk: HISTORY_PARTITION, sk: `${String(record.createdAt).padStart(15, '0')}#${record.upgradeId}` });
const auditPrefix = (filter?: { mediaServerId: string; groupId?: string }) =>
  filter === undefined ? 'audit#' : filter.groupId === undefined ? `audit#${filter.mediaServerId}#` : `audit#${filter.mediaServerId}#${filter.groupId}#`;

/**
 * The store on the orchestrator's DynamoDB table (string keys `pk`/`sk`, TTL attribute `expiresAt`).
 * Items: `upgrade#ID / upgrade` (the request), `upgrade#ID / group#MS#GROUP` (phase and progress),
 * `upgrade#ID / audit#MS#GROUP#TIME#RANDOM` (one per event), `lease#MS / lease`. Conditional writes only,
 * no transactions (dynalite has none).
 */
export class DynamoUpgradeStateStore implements UpgradeStateStore {
  private readonly retentionMs: number;
  private auditSequence = 0;

  constructor(private readonly options: DynamoUpgradeStateStoreOptions) {
    this.retentionMs = (options.retentionDays ?? DEFAULT_RETENTION_DAYS) * MS_PER_DAY;
  }

  async ensureUpgrade(upgradeId: string, requestJson: string): Promise<UpgradeRecord> {
    const now = this.now();
    const item = { ...upgradeKey(upgradeId), upgradeId, request: requestJson, createdAt: now, expiresAt: this.expiresAt(now) };
    await this.putIfAbsent(item);
    const stored = await this.getUpgrade(upgradeId);
    if (stored === undefined) throw new CorruptStateError(`upgrade ${upgradeId}`, 'missing right after it was written');
    // Keyed by the stored record, so a resumed upgrade writes the same history entry again, not a second one.
    await this.putIfAbsent({ ...historyKey(stored), upgradeId, createdAt: stored.createdAt, expiresAt: this.expiresAt(stored.createdAt) });
    return stored;
  }

  async listUpgrades(limit: number): Promise<UpgradeRecord[]> {
    const page = await this.options.client.send(
      new QueryCommand({ TableName: this.options.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': HISTORY_PARTITION }, ScanIndexForward: false, Limit: limit, ConsistentRead: true }),
    );
    const ids = (page.Items ?? []).map((item) => parseItem(historyEntrySchema, item, 'an upgrade history entry').upgradeId);
    const records = await Promise.all(ids.map((upgradeId) => this.getUpgrade(upgradeId)));
    return records.filter((record): record is UpgradeRecord => record !== undefined);
  }

  async getUpgrade(upgradeId: string): Promise<UpgradeRecord | undefined> {
    return this.getParsed(upgradeKey(upgradeId), upgradeRecordSchema, `upgrade ${upgradeId}`);
  }

  async haltUpgrade(upgradeId: string, reason: string): Promise<void> {
    await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: upgradeKey(upgradeId),
        UpdateExpression: 'SET haltedBy = if_not_exists(haltedBy, :reason)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':reason': reason },
      }),
    );
  }

  async getGroup(key: GroupKey): Promise<GroupRecord | undefined> {
    return this.getParsed(groupKey(key), groupRecordSchema, describeKey(key));
  }

  async ensureGroup(key: GroupKey, release: { image: string; version: string }): Promise<GroupRecord> {
    const now = this.now();
    const record: GroupRecord = { ...key, ...release, phase: 'pending', createdAt: now, updatedAt: now };
    if (await this.putIfAbsent({ ...groupKey(key), ...record, expiresAt: this.expiresAt(now) })) return record;
    const stored = await this.getGroup(key);
    if (stored === undefined) throw new CorruptStateError(describeKey(key), 'missing right after it was written');
    return stored;
  }

  async updateGroup(key: GroupKey, from: readonly GroupUpgradePhase[], changes: GroupRecordChanges, to?: GroupUpgradePhase): Promise<GroupRecord> {
    const now = this.now();
    const fields: Record<string, unknown> = { ...changes, updatedAt: now, expiresAt: this.expiresAt(now), ...(to === undefined ? {} : { phase: to }) };
    const names: Record<string, string> = { '#phase': 'phase' };
    const values: Record<string, unknown> = {};
    const assignments = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([name, value], index) => {
        names[`#f${index}`] = name;
        values[`:f${index}`] = value;
        return `#f${index} = :f${index}`;
      });
    from.forEach((phase, index) => (values[`:from${index}`] = phase));
    try {
      const result = await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: groupKey(key),
          UpdateExpression: `SET ${assignments.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND #phase IN (${from.map((_, index) => `:from${index}`).join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return parseItem(groupRecordSchema, result.Attributes, describeKey(key));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new PhaseConflictError(key, from, (await this.getGroup(key))?.phase);
    }
  }

  async listGroups(upgradeId: string): Promise<GroupRecord[]> {
    const items = await this.query(`upgrade#${upgradeId}`, 'group#');
    return items.map((item) => parseItem(groupRecordSchema, item, `a group of upgrade ${upgradeId}`));
  }

  async acquireLease(mediaServerId: string, owner: string, groupId: string, ttlMs: number): Promise<void> {
    const now = this.now();
    const lease: Lease = { mediaServerId, owner, groupId, leaseUntil: now + ttlMs };
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...leaseKey(mediaServerId), ...lease, expiresAt: this.expiresAt(now + ttlMs) },
          ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const holder = await this.getLease(mediaServerId);
      const held = holder === undefined ? 'another upgrade' : `upgrade ${holder.owner} (group ${holder.groupId}) until ${new Date(holder.leaseUntil).toISOString()}`;
      throw new UpgradeStepError('LeaseHeld', `media server ${mediaServerId} is being upgraded by ${held}`);
    }
  }

  async releaseLease(mediaServerId: string, owner: string): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteCommand({
          TableName: this.options.tableName,
          Key: leaseKey(mediaServerId),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async getLease(mediaServerId: string): Promise<Lease | undefined> {
    return this.getParsed(leaseKey(mediaServerId), leaseSchema, `lease of ${mediaServerId}`);
  }

  async appendAudit(key: GroupKey, event: AuditEvent): Promise<void> {
    const at = this.now();
    const entry: AuditEntry = { ...key, at, event };
    // The sequence orders this writer's events within one millisecond; the random part keeps writers apart.
    const sequence = String(this.auditSequence++ % 1_000_000).padStart(6, '0');
    const sk = `${auditPrefix(key)}${String(at).padStart(15, '0')}#${sequence}#${randomBytes(4).toString('hex')}`;
    await this.putIfAbsent({ pk: `upgrade#${key.upgradeId}`, sk, ...entry, expiresAt: this.expiresAt(at) });
  }

  async audit(upgradeId: string, filter?: { mediaServerId: string; groupId?: string }): Promise<AuditEntry[]> {
    const items = await this.query(`upgrade#${upgradeId}`, auditPrefix(filter));
    const entries = items.map((item) => ({ sk: String(item.sk), entry: parseItem(auditEntrySchema, item, `an audit entry of upgrade ${upgradeId}`) }));
    return entries.sort((first, second) => first.entry.at - second.entry.at || timeKey(first.sk).localeCompare(timeKey(second.sk))).map(({ entry }) => entry);
  }

  private now(): number {
    return this.options.clock.now();
  }

  private expiresAt(fromMs: number): number {
    return Math.floor((fromMs + this.retentionMs) / 1000);
  }

  /** True if `item` was written, false if an item with its key was already there. */
  private async putIfAbsent(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.options.client.send(new PutCommand({ TableName: this.options.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
  }

  private async getParsed<Schema extends z.ZodType>(key: { pk: string; sk: string }, schema: Schema, what: string): Promise<z.output<Schema> | undefined> {
    const result = await this.options.client.send(new GetCommand({ TableName: this.options.tableName, Key: key, ConsistentRead: true }));
    return result.Item === undefined ? undefined : parseItem(schema, result.Item, what);
  }

  private async query(pk: string, skPrefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }
}

function parseItem<Schema extends z.ZodType>(schema: Schema, item: unknown, what: string): z.output<Schema> {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new CorruptStateError(what, describeIssues(parsed.error.issues));
  return parsed.data;
}

/** The time and sequence part of an audit sort key (what follows the media server and group). */
function timeKey(sk: string): string {
  return sk.split('#').slice(-3).join('#');
}

function describeKey(key: GroupKey): string {
  return `group ${key.groupId} of ${key.mediaServerId} in upgrade ${key.upgradeId}`;
}

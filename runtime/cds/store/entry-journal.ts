import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CallEntry } from '../call/call-entries';
import type { CdsClock } from '../clock/cds-clock';
import type { EntryWriteStats } from './cds-store';
import { FencedError } from '../clock/hybrid-clock';
import { BatchWriter } from '../../dynamodb/batch-writer';
import type { DirectDynamoDbClient, WriteRequest } from '../../dynamodb/direct-dynamodb-client';
import { batchWrite, inBatches, queryAll } from '../../dynamodb/operations';
import { Pacing, spreadAt } from '../clock/pacing';
import { partsSettled } from '../../shared/parts-settled';
import { JOURNAL_PK, callPk, entryItem, entrySk, itemProblem, journalSk, parseJournalItem, type JournalChange } from './store-items';

export interface EntryJournalOptions {
  readonly client: DynamoDBDocumentClient;
  /** Journal items and entry items are written without the document client's per-command overhead (hundreds a second under load). */
  readonly direct: DirectDynamoDbClient;
  readonly tableName: string;
  readonly clock: CdsClock;
  /** The `expiresAt` (epoch seconds) of an item written now. */
  readonly expiresAt: () => number;
  /** Identifies this node's journal items (see journalSk). */
  readonly incarnation: string;
  /** Throws FencedError once this node knows another one took the table. */
  readonly checkWritable: () => void;
  /** Asks the table whether this node still owns it; throws FencedError when not. Checked before each compaction. */
  readonly confirmOwnership: () => Promise<void>;
  /** A journal item that does not parse: it is skipped and left in the table, never deleted. */
  readonly onInvalidItem: (key: string, problem: string) => void;
  /** A compaction failed; it is tried again later (the journal still holds everything). */
  readonly onCompactionFailed: (error: unknown) => void;
  /**
   * Journaled changes held beyond this are compacted at once instead of after the delay, and without spreading the
   * writes (bounds the memory they hold). @default DEFAULT_MAX_PENDING_CHANGES
   */
  readonly maxPendingChanges?: number;
}

/**
 * How long journaled entries wait for compaction. A property that changes all the time (a queue position, live
 * transcription) is then written to its own item about once a second however often it changes.
 */
export const COMPACTION_DELAY_MS = 1_000;

/**
 * A compaction's writes go one batch at a time, spread over this long: at once they kept the table busy for a tenth of
 * a second every compaction at 1,000 updates/s, and the journal writes of live updates queued behind them. A
 * compaction of more than `maxPendingChanges` goes at once, two batches at a time: the node is behind.
 */
export const COMPACTION_SPREAD_MS = COMPACTION_DELAY_MS / 2;

const DEFAULT_MAX_PENDING_CHANGES = 50_000;

/** JSON of changes in one journal item: well inside DynamoDB's 400 KB item limit (a lone entry is at most ~33 KB). */
export const MAX_JOURNAL_ITEM_BYTES = 300 * 1024;

/**
 * One write of changes at a time: the changes arriving while it is stored fill the next one. With two under way each
 * journal item carried half as many changes, and a busy node sustained no more updates: a request's cost to the node
 * and to the table is most of what a journal write costs.
 */
const WRITES_IN_FLIGHT = 1;

/** One key's latest journaled change: the entry stored, or undefined for a deleted entry. */
interface PendingChange {
  readonly sequence: number;
  readonly entry?: CallEntry;
}

interface QueuedChange {
  readonly change: JournalChange;
  /** The entry keys of the change's puts, in their order: found once, when it is appended. */
  readonly putKeys: readonly string[];
  /** The change as JSON, and its length in bytes. */
  readonly json: string;
  readonly bytes: number;
  readonly written: () => void;
  readonly failed: (error: unknown) => void;
}

/**
 * The write path of a node's call entries, with a write-ahead journal. Under load the entries the node stores in a
 * moment, across all calls, go into one journal item (one write instead of one per entry; worthJournaling decides when
 * they go straight to their items instead); a change is durable once its journal item is stored. COMPACTION_DELAY_MS
 * after a journal write the journaled changes are written to the entries' own items (the latest change of each key
 * only) and the journal items deleted, spread over COMPACTION_SPREAD_MS. Until then reads of a call see the table's
 * items overlaid with its journaled changes (`overlay`); after a restart `replay` reads the journal an earlier run left.
 */
export class EntryJournal {
  /** Per call, per entry key, the latest change journaled and not compacted yet. */
  private readonly pending = new Map<string, Map<string, PendingChange>>();
  private pendingCount = 0;
  /** Journal items stored and not compacted yet (compaction picks them by sequence). */
  private readonly journalItems: Array<{ readonly sequence: number; readonly sk: string }> = [];
  private readonly queue: QueuedChange[] = [];
  /** Sequences of journal writes under way: changes below the lowest are settled and may be compacted. */
  private readonly unsettled = new Set<number>();
  private writesInFlight = 0;
  private pumpScheduled = false;
  /** Keys (call and entry key) written since `recentSinceMs`, and in the window before it. */
  private recentKeys = new Set<string>();
  private olderKeys = new Set<string>();
  private recentSinceMs = -Infinity;
  private nextSequence = 1;
  private cancelCompaction?: () => void;
  private compaction?: Promise<void>;
  /** Compactions finished so far: a read that spans one reads the table again (the changes it overlaid may be gone). */
  private compactions = 0;
  private closed = false;
  private journalWrites = 0;
  private journaledEntries = 0;
  private directWrites = 0;
  private directItems = 0;
  private compactedItems = 0;

  /** Writes the entry items of changes not worth journaling, and those of a compaction that is behind, many at once. */
  private readonly writer: BatchWriter;
  private readonly pacing: Pacing;

  constructor(private readonly options: EntryJournalOptions) {
    this.writer = new BatchWriter(options.direct, options.tableName);
    this.pacing = new Pacing(options.clock);
  }

  private get maxPendingChanges(): number {
    return this.options.maxPendingChanges ?? DEFAULT_MAX_PENDING_CHANGES;
  }

  get stats(): EntryWriteStats {
    const { journalWrites, journaledEntries, directWrites, directItems, compactedItems, compactions } = this;
    return { journalWrites, journaledEntries, directWrites, directItems, compactedItems, compactions };
  }

  /** Reads the journal an earlier run of the node left (before this one writes to it). */
  async replay(): Promise<void> {
    const { client, tableName, onInvalidItem } = this.options;
    const items = await queryAll(client, { TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': JOURNAL_PK }, ConsistentRead: true });
    for (const item of items) {
      let journal: ReturnType<typeof parseJournalItem>;
      try {
        journal = parseJournalItem(item);
      } catch (error) {
        onInvalidItem(`${JOURNAL_PK}/${String(item.sk)}`, itemProblem(error));
        continue;
      }
      const sequence = this.nextSequence++;
      journal.changes.forEach((change) => this.record(change, change.puts.map(entrySk), sequence));
      this.journalItems.push({ sequence, sk: journal.sk });
      this.nextSequence = Math.max(this.nextSequence, journal.sequence + 1);
    }
    if (this.journalItems.length > 0) this.scheduleCompaction();
  }

  /**
   * Resolves once the change is stored (in the journal or in its items); rejects if it could not be written. Of puts
   * of the same key the last is the one kept.
   */
  append(callId: string, puts: readonly CallEntry[], deletes: readonly string[]): Promise<void> {
    this.options.checkWritable();
    const latest = new Map(puts.map((entry) => [entrySk(entry), entry]));
    const parts = splitChange({ callId, puts: [...latest.values()], deletes }, [...latest.keys()]);
    const { settled, written, failed } = partsSettled(parts.length);
    for (const part of parts) this.queue.push({ ...part, written, failed });
    this.pumpSoon();
    return settled;
  }

  /** A call's entries as read from its items, with its journaled changes applied. */
  overlay(callId: string, stored: readonly CallEntry[]): CallEntry[] {
    const changes = this.pending.get(callId);
    if (!changes) return [...stored];
    const byKey = new Map(stored.map((entry) => [entrySk(entry), entry]));
    for (const [key, change] of changes) {
      if (change.entry) byKey.set(key, change.entry);
      else byKey.delete(key);
    }
    return [...byKey.keys()].sort().map((key) => byKey.get(key) as CallEntry);
  }

  /** Runs a read of the table again while a compaction finished during it (it may have missed items the compaction wrote). */
  async consistentRead<T>(read: () => Promise<T>): Promise<T> {
    for (;;) {
      const before = this.compactions;
      const result = await read();
      if (this.compactions === before) return result;
    }
  }

  /** Stops compacting (what is journaled stays durable, for the next run to compact). */
  async close(): Promise<void> {
    this.closed = true;
    this.pacing.hurry();
    this.cancelCompaction?.();
    this.cancelCompaction = undefined;
    await this.compaction;
  }

  /** Writes every settled change to its own item and deletes the journal items that held them. */
  async compact(): Promise<void> {
    while (this.compaction) await this.compaction;
    this.compaction = this.compactSettled().finally(() => {
      this.compaction = undefined;
      if (this.journalItems.length > 0) this.scheduleCompaction();
    });
    await this.compaction;
  }

  /**
   * Starts a write once the changes of this turn of the event loop are queued: the entries of one peer batch, or of the
   * requests read from the sockets in one go, then share a write instead of the first going alone and the others
   * waiting for its round trip. The same after a write is stored: the next changes of its calls (held in their lanes
   * until it was) join those that waited for it.
   */
  private pumpSoon(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.writesInFlight < WRITES_IN_FLIGHT && this.queue.length > 0) {
      let bytes = 0;
      let count = 0;
      while (count < this.queue.length && (count === 0 || bytes + this.queue[count].bytes < MAX_JOURNAL_ITEM_BYTES)) bytes += this.queue[count++].bytes + 1;
      const batch = this.queue.splice(0, count);
      const entries = batch.reduce((sum, queued) => sum + queued.change.puts.length + queued.change.deletes.length, 0);
      const write = this.worthJournaling(batch, entries, bytes) ? this.journal(batch, entries) : this.writeItems(batch, entries);
      this.writesInFlight += 1;
      write
        .then(
          () => batch.forEach((queued) => queued.written()),
          (error: unknown) => batch.forEach((queued) => queued.failed(error)),
        )
        .finally(() => {
          this.writesInFlight -= 1;
          this.pumpSoon();
        });
    }
  }

  /** Changes the journal would cost more write units for (and none of a key it holds): each entry to its own item at once. */
  private async writeItems(batch: readonly QueuedChange[], entries: number): Promise<void> {
    this.options.checkWritable();
    const expiresAt = this.options.expiresAt();
    await this.writer.write(batch.flatMap(({ change }) => itemWrites(change.callId, change.puts, change.deletes, expiresAt)));
    this.directWrites += 1;
    this.directItems += entries;
  }

  private async journal(batch: readonly QueuedChange[], entries: number): Promise<void> {
    const sequence = this.nextSequence++;
    const sk = journalSk(sequence, this.options.incarnation);
    this.unsettled.add(sequence);
    try {
      await this.writeJournalItem(sk, `[${batch.map((queued) => queued.json).join(',')}]`);
      this.journalWrites += 1;
      this.journaledEntries += entries;
      batch.forEach((queued) => this.record(queued.change, queued.putKeys, sequence));
      this.journalItems.push({ sequence, sk });
      this.scheduleCompaction();
    } finally {
      this.unsettled.delete(sequence);
    }
  }

  /**
   * Whether the batch costs the table fewer write units journaled than written straight to its items (one unit per
   * item and KB). A journal item costs two units per KB (its write and its deletion), and each key in it one more at
   * compaction, unless the key was written in the last compaction window: it changes often, and its compaction write
   * serves the writes to come as well. A key the journal holds is journaled again: its items are written in order.
   */
  private worthJournaling(batch: readonly QueuedChange[], entries: number, bytes: number): boolean {
    const now = this.options.clock.monotonicMs();
    if (now - this.recentSinceMs >= COMPACTION_DELAY_MS) {
      [this.olderKeys, this.recentKeys, this.recentSinceMs] = [this.recentKeys, new Set(), now];
    }
    let held = false;
    let newKeys = 0;
    for (const { change, putKeys } of batch) {
      const journaled = this.pending.get(change.callId);
      const count = (key: string): void => {
        const id = `${change.callId}\n${key}`;
        if (journaled?.has(key)) held = true;
        else if (!this.recentKeys.has(id) && !this.olderKeys.has(id)) newKeys += 1;
        this.recentKeys.add(id);
      };
      change.deletes.forEach(count);
      putKeys.forEach(count);
    }
    const kilobytes = Math.ceil(bytes / 1024);
    return held || 2 * kilobytes + newKeys < Math.max(entries, kilobytes);
  }

  private async writeJournalItem(sk: string, changes: string): Promise<void> {
    this.options.checkWritable();
    const { tableName, expiresAt } = this.options;
    await this.options.direct.putItem(tableName, { pk: JOURNAL_PK, sk, changes: Buffer.from(changes), expiresAt: expiresAt() });
  }

  /** Holds a change as the latest of its keys, unless a later one is held already. */
  private record(change: JournalChange, putKeys: readonly string[], sequence: number): void {
    let changes = this.pending.get(change.callId);
    if (!changes) this.pending.set(change.callId, (changes = new Map()));
    const hold = (key: string, entry: CallEntry | undefined): void => {
      const held = changes.get(key);
      if (held && held.sequence > sequence) return;
      if (!held) this.pendingCount += 1;
      changes.set(key, { sequence, entry });
    };
    change.deletes.forEach((key) => hold(key, undefined));
    change.puts.forEach((entry, index) => hold(putKeys[index], entry));
  }

  private scheduleCompaction(): void {
    if (this.closed || this.cancelCompaction || this.compaction) return;
    const delayMs = this.pendingCount > this.maxPendingChanges ? 0 : COMPACTION_DELAY_MS;
    this.cancelCompaction = this.options.clock.schedule(() => {
      this.cancelCompaction = undefined;
      this.compact().catch((error: unknown) => this.options.onCompactionFailed(error));
    }, delayMs);
  }

  /** Writes the batches one after the other, spread over COMPACTION_SPREAD_MS. */
  private async writeSpread(batches: readonly WriteRequest[][]): Promise<void> {
    const startedMs = this.options.clock.monotonicMs();
    for (const [index, batch] of batches.entries()) {
      await this.pacing.until(spreadAt(startedMs, index, batches.length, COMPACTION_SPREAD_MS));
      await batchWrite(this.options.direct, this.options.tableName, batch);
    }
  }

  private async compactSettled(): Promise<void> {
    const settledBelow = Math.min(this.nextSequence, ...this.unsettled);
    const journalItems = this.journalItems.filter((item) => item.sequence < settledBelow);
    const changes: Array<{ readonly callId: string; readonly key: string; readonly change: PendingChange }> = [];
    for (const [callId, byKey] of this.pending) for (const [key, change] of byKey) if (change.sequence < settledBelow) changes.push({ callId, key, change });
    if (journalItems.length === 0 && changes.length === 0) return;
    try {
      await this.options.confirmOwnership();
    } catch (error) {
      // Another node owns the table: its replay of the journal takes over what this one left.
      if (error instanceof FencedError) this.closed = true;
      throw error;
    }
    const itemExpiry = this.options.expiresAt();
    const entryWrites = changes.flatMap(({ callId, key, change }) => itemWrites(callId, change.entry ? [change.entry] : [], change.entry ? [] : [key], itemExpiry));
    const journalDeletes = journalItems.map((item) => ({ DeleteRequest: { Key: { pk: JOURNAL_PK, sk: item.sk } } }));
    // Every entry is written before the first journal item that holds it is deleted.
    if (changes.length > this.maxPendingChanges) {
      await this.writer.write(entryWrites);
      await this.writer.write(journalDeletes);
    } else {
      await this.writeSpread([...inBatches(entryWrites), ...inBatches(journalDeletes)]);
    }
    const compacted = new Set(journalItems.map((item) => item.sequence));
    this.journalItems.splice(0, this.journalItems.length, ...this.journalItems.filter((item) => !compacted.has(item.sequence)));
    for (const { callId, key, change } of changes) {
      const byKey = this.pending.get(callId);
      if (byKey?.get(key) !== change) continue;
      byKey.delete(key);
      this.pendingCount -= 1;
      if (byKey.size === 0) this.pending.delete(callId);
    }
    this.compactedItems += changes.length;
    this.compactions += 1;
  }
}

/** The writes of entries to their own items, and the deletions of entry items. */
function itemWrites(callId: string, puts: readonly CallEntry[], deletes: readonly string[], expiresAt: number): WriteRequest[] {
  return [...puts.map((entry) => ({ PutRequest: { Item: entryItem(callId, entry, expiresAt) } })), ...deletes.map((sk) => ({ DeleteRequest: { Key: { pk: callPk(callId), sk } } }))];
}

/**
 * A change as journal item parts (with their JSON), each within MAX_JOURNAL_ITEM_BYTES: a final record of a large call
 * takes several. `putKeys` are the entry keys of its puts, in their order.
 */
function splitChange(change: JournalChange, putKeys: readonly string[]): Array<Pick<QueuedChange, 'change' | 'putKeys' | 'json' | 'bytes'>> {
  const json = JSON.stringify(change);
  const bytes = Buffer.byteLength(json);
  const { callId, puts, deletes } = change;
  if (bytes <= MAX_JOURNAL_ITEM_BYTES || puts.length + deletes.length <= 1) return [{ change, putKeys, json, bytes }];
  const [halfPuts, halfDeletes] = [Math.ceil(puts.length / 2), Math.floor(deletes.length / 2)];
  return [
    ...splitChange({ callId, puts: puts.slice(0, halfPuts), deletes: deletes.slice(0, halfDeletes) }, putKeys.slice(0, halfPuts)),
    ...splitChange({ callId, puts: puts.slice(halfPuts), deletes: deletes.slice(halfDeletes) }, putKeys.slice(halfPuts)),
  ];
}

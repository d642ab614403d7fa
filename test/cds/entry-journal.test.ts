import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { CallEntry, PropertyEntry } from '../../runtime/cds/call/call-entries';
import { FencedError } from '../../runtime/cds/clock/hybrid-clock';
import { queryAll } from '../../runtime/dynamodb/operations';
import { COMPACTION_DELAY_MS, COMPACTION_SPREAD_MS, MAX_JOURNAL_ITEM_BYTES } from '../../runtime/cds/store/entry-journal';
import { DynamoCdsStore } from '../../runtime/cds/store/dynamo-cds-store';
import { JOURNAL_PK, callPk } from '../../runtime/cds/store/store-items';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';
import { ManualClock } from '../support/cds/test-clocks';
import { waitFor } from '../support/wait-for';

// The entry journal on dynalite: a busy node's entries are durable once journaled, read back through the journal
// before they are compacted, after a restart (a new store on the same table) and after compaction; compaction keeps
// the latest write of each key only. Entries the journal would cost more write units for go straight to their items.

const TABLE = 'entry-journal-test';
let dynamo: LocalDynamo;
let callCounter = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo([TABLE]);
});
afterAll(() => dynamo.close());

const property = (name: string, value: string, ts: number): PropertyEntry => ({ kind: 'property', name, value, ts, site: 'west', recordedTs: ts });

/** Eight entries at once, `field0`… all set to `value`: journaled when their keys were written in the last second. */
const busyWrite = (value: string, ts: number): PropertyEntry[] => Array.from({ length: 8 }, (_, index) => property(`field${index}`, value, ts));

/** Writes `value` to the busy keys (straight to their items: new keys), so that their next busy write is journaled. */
async function warmUp(store: DynamoCdsStore, callId: string): Promise<void> {
  await store.storeEntries(callId, busyWrite('warm', 0));
}

/** A node's store as it starts: it takes the table (fencing the store before it), then reads the journal on first use. */
async function openStore(clock: ManualClock, invalid: string[] = [], failures: unknown[] = []): Promise<DynamoCdsStore> {
  const store = new DynamoCdsStore({
    client: dynamo.client,
    tableName: TABLE,
    clock,
    retentionMs: 86_400_000,
    onInvalidItem: (key, problem) => invalid.push(`${key}: ${problem}`),
    onCompactionFailed: (error) => failures.push(error),
  });
  await store.clockHighWaterMark.take();
  return store;
}

async function newCall(store: DynamoCdsStore): Promise<string> {
  const callId = `west:journal-${++callCounter}`;
  await store.createCall({ callId, owner: 'west', state: 'active' });
  return callId;
}

const items = (pk: string) => queryAll(dynamo.client, { TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true });
const entryItems = async (callId: string) => (await items(callPk(callId))).filter((item) => /^[PL]#/.test(String(item.sk)));
const values = (entries: readonly CallEntry[] | undefined) => (entries ?? []).map((entry) => (entry.kind === 'property' ? `${entry.name}=${String(entry.value)}` : entry.id));

/** Lets the compaction delay pass, then the time a compaction's writes are spread over until `done` holds. */
async function compactionUntil(clock: ManualClock, done: () => Promise<boolean>, message: string): Promise<void> {
  clock.advance(COMPACTION_DELAY_MS);
  await waitFor(
    async () => {
      if (await done()) return true;
      clock.advance(COMPACTION_SPREAD_MS);
      return false;
    },
    { message },
  );
}

/** Lets `store` compact and waits until its compaction finished and the journal holds nothing. */
async function compacted(store: DynamoCdsStore, clock: ManualClock): Promise<void> {
  const before = store.entryWriteStats().compactions;
  await compactionUntil(clock, async () => store.entryWriteStats().compactions > before && (await items(JOURNAL_PK)).length === 0, 'the journal to be compacted');
}

afterEach(async () => {
  // Each test starts from an empty journal: one store replays and compacts what a test left.
  const clock = new ManualClock();
  const store = await openStore(clock);
  await store.loadCall('west:none');
  if ((await items(JOURNAL_PK)).length > 0) await compacted(store, clock);
  await store.close();
});

describe('entry journal', () => {
  it('writes new keys and small batches straight to their items, journals busy keys, and a key the journal holds until compacted', async () => {
    const clock = new ManualClock();
    const store = await openStore(clock);
    const callId = await newCall(store);
    await store.storeEntries(callId, [property('caller', '+15550100', 1)]);
    await store.storeEntries(callId, busyWrite('first', 2));
    expect((await entryItems(callId)).map((item) => item.sk)).toEqual(['P#caller', ...busyWrite('first', 2).map((entry) => `P#${entry.name}`)]);
    expect(store.entryWriteStats()).toMatchObject({ directWrites: 2, directItems: 9, journalWrites: 0 });
    await store.storeEntries(callId, busyWrite('second', 3));
    await store.storeEntries(callId, [property('field0', 'held', 4)]);
    await store.storeEntries(callId, [property('caller', '+15550111', 5)]);
    expect(store.entryWriteStats()).toMatchObject({ directWrites: 3, directItems: 10, journalWrites: 2, journaledEntries: 9 });
    expect((await entryItems(callId)).find((item) => item.sk === 'P#field0')?.value).toBe('"first"');
    expect(values((await store.loadCall(callId))?.entries)).toEqual(['caller=+15550111', 'field0=held', ...busyWrite('second', 3).slice(1).map((entry) => `${entry.name}=second`)]);
    await compacted(store, clock);
    expect((await entryItems(callId)).find((item) => item.sk === 'P#field0')?.value).toBe('"held"');
    await store.storeEntries(callId, [property('field0', 'straight', 6)]);
    expect(store.entryWriteStats()).toMatchObject({ directWrites: 4, journalWrites: 2 });
    expect((await entryItems(callId)).find((item) => item.sk === 'P#field0')?.value).toBe('"straight"');
    await store.close();
  });

  it('keeps only the latest write of each key when it compacts, and deletes its journal items', async () => {
    const clock = new ManualClock();
    const store = await openStore(clock);
    const callId = await newCall(store);
    for (let write = 1; write <= 20; write++) await store.storeEntries(callId, [property('queue', `position ${write}`, write), ...busyWrite(`v${write}`, write)]);
    // The first write went straight to the items (new keys), the 19 others to the journal.
    expect((await entryItems(callId)).map((item) => `${String(item.name)}=${JSON.parse(String(item.value)) as string}`)).toContain('queue=position 1');
    expect((await items(JOURNAL_PK)).length).toBe(19);
    const latest = ['queue=position 20', ...busyWrite('v20', 20).map((entry) => `${entry.name}=v20`)].sort();
    expect(values((await store.loadCall(callId))?.entries).sort()).toEqual(latest);

    await compacted(store, clock);
    expect((await entryItems(callId)).map((item) => `${String(item.name)}=${JSON.parse(String(item.value)) as string}`).sort()).toEqual(latest);
    expect(store.entryWriteStats().compactedItems).toBe(latest.length);
    expect(values((await store.loadCall(callId))?.entries).sort()).toEqual(latest);
    await store.close();
  });

  it('spreads the writes of a compaction over half a second, one batch at a time, the entries before any journal item is deleted', async () => {
    const clock = new ManualClock();
    const store = await openStore(clock);
    const callId = await newCall(store);
    await warmUp(store, callId);
    for (let write = 1; write <= 60; write++) await store.storeEntries(callId, busyWrite(`v${write}`, write));
    const journalItems = async () => (await items(JOURNAL_PK)).length;
    expect(await journalItems()).toBe(60);
    // Four batches: the 8 entries, then the 60 journal items deleted 25 at a time, COMPACTION_SPREAD_MS / 4 apart.
    const waitingWith = (left: number) => waitFor(async () => clock.pendingTimers === 1 && (await journalItems()) === left, { message: `a compaction waiting with ${left} journal items left` });
    clock.advance(COMPACTION_DELAY_MS);
    await waitingWith(60);
    expect(new Set((await entryItems(callId)).map((item) => item.value))).toEqual(new Set(['"v60"']));
    clock.advance(COMPACTION_SPREAD_MS / 4);
    await waitingWith(35);
    clock.advance(COMPACTION_SPREAD_MS / 2);
    await waitFor(async () => store.entryWriteStats().compactions === 1 && (await journalItems()) === 0, { message: 'the compaction to finish' });
    await store.close();
  });

  it('compacts at once, without spreading, when it holds more changes than it may: the node is behind', async () => {
    const clock = new ManualClock();
    const store = new DynamoCdsStore({ client: dynamo.client, tableName: TABLE, clock, retentionMs: 86_400_000, onInvalidItem: () => undefined, maxPendingChanges: 7 });
    await store.clockHighWaterMark.take();
    const callId = await newCall(store);
    await warmUp(store, callId);
    for (let write = 1; write <= 60; write++) await store.storeEntries(callId, busyWrite(`v${write}`, write));
    clock.advance(0);
    await waitFor(async () => store.entryWriteStats().compactions === 1 && (await items(JOURNAL_PK)).length === 0, { message: 'the compaction to finish with no time passing' });
    expect(new Set((await entryItems(callId)).map((item) => item.value))).toEqual(new Set(['"v60"']));
    await store.close();
  });

  it('gives a store started on the table after a crash the entries journaled and not compacted', async () => {
    const crashed = await openStore(new ManualClock());
    const callId = await newCall(crashed);
    await crashed.storeEntries(callId, [property('caller', '+15550100', 1), ...busyWrite('first', 2)]);
    await crashed.storeEntries(callId, busyWrite('second', 3));
    expect(crashed.entryWriteStats().journalWrites).toBe(1);

    const clock = new ManualClock();
    const restarted = await openStore(clock);
    expect((await restarted.loadCall(callId))?.entries).toEqual([property('caller', '+15550100', 1), ...busyWrite('second', 3)]);
    // Its own writes go after the journal it found (a key the journal holds is journaled again), and compaction keeps them.
    await restarted.storeEntries(callId, [property('field0', 'third', 4)]);
    await compacted(restarted, clock);
    expect((await restarted.loadCall(callId))?.entries).toEqual([property('caller', '+15550100', 1), property('field0', 'third', 4), ...busyWrite('second', 3).slice(1)]);
    await restarted.close();
  });

  it('replaces a record through the journal, before and after compaction and across a restart', async () => {
    const clock = new ManualClock();
    const store = await openStore(clock);
    const callId = await newCall(store);
    const held: CallEntry[] = [property('kept', 'old', 1), ...busyWrite('dropped', 2)];
    await store.storeEntries(callId, held);
    const final: CallEntry[] = [property('kept', 'final', 9)];
    await store.replaceEntries(callId, final, held);
    expect(store.entryWriteStats()).toMatchObject({ directWrites: 1, journalWrites: 1, journaledEntries: held.length });
    expect((await store.loadCall(callId))?.entries).toEqual(final);
    const restartClock = new ManualClock();
    const restarted = await openStore(restartClock);
    expect((await restarted.loadCall(callId))?.entries).toEqual(final);
    await compacted(restarted, restartClock);
    expect((await entryItems(callId)).map((item) => item.sk)).toEqual(['P#kept']);
    await Promise.all([store.close(), restarted.close()]);
  });

  it('splits a change larger than one journal item over several, all read back', async () => {
    const store = await openStore(new ManualClock());
    const callId = await newCall(store);
    const part = (index: number, value: string) => property(`part${String(index).padStart(4, '0')}`, value, index + 1);
    await store.storeEntries(callId, Array.from({ length: 3_000 }, (_, index) => part(index, 'warm')));
    const large = Array.from({ length: 3_000 }, (_, index) => part(index, `value ${'x'.repeat(100)}`));
    await store.storeEntries(callId, large);
    expect(store.entryWriteStats().journalWrites).toBeGreaterThanOrEqual(Math.ceil(Buffer.byteLength(JSON.stringify(large)) / MAX_JOURNAL_ITEM_BYTES));
    const restarted = await openStore(new ManualClock());
    expect((await restarted.loadCall(callId))?.entries).toEqual(large);
    await Promise.all([store.close(), restarted.close()]);
  });

  it('reads a call again when a compaction finished while it was read (it may have missed what the compaction wrote)', async () => {
    // The table answers the first read of the call only once the test lets it: a read that began before the compaction.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let heldReads = 0;
    const slowReads = new Proxy(dynamo.client, {
      get: (target, key, receiver) => {
        if (key !== 'send') return Reflect.get(target, key, receiver) as unknown;
        return async (command: { input: unknown }) => {
          const result: unknown = await target.send(command as QueryCommand);
          if (command instanceof QueryCommand && command.input.ExpressionAttributeValues?.[':pk'] !== JOURNAL_PK && heldReads++ === 0) await released;
          return result;
        };
      },
    });
    const clock = new ManualClock();
    const store = new DynamoCdsStore({ client: slowReads, tableName: TABLE, clock, retentionMs: 86_400_000, onInvalidItem: () => undefined });
    await store.clockHighWaterMark.take();
    const callId = await newCall(store);
    await warmUp(store, callId);
    await store.storeEntries(callId, busyWrite('journaled', 1));
    const read = store.loadCall(callId);
    await waitFor(() => heldReads === 1, { message: 'the read to reach the table' });
    await compacted(store, clock);
    release();
    expect((await read)?.entries).toEqual(busyWrite('journaled', 1));
    expect(heldReads).toBe(2);
    await store.close();
  });

  it('reports a journal item that does not parse and leaves it, replaying the others', async () => {
    const crashed = await openStore(new ManualClock());
    const callId = await newCall(crashed);
    await warmUp(crashed, callId);
    await crashed.storeEntries(callId, busyWrite('good', 1));
    const bad = { pk: JOURNAL_PK, sk: '0000000000000999#other', changes: Buffer.from('[{"callId":"west:x","puts":[{"kind":"property"}],"deletes":[]}]') };
    await dynamo.client.send(new PutCommand({ TableName: TABLE, Item: bad }));
    const invalid: string[] = [];
    const clock = new ManualClock();
    const restarted = await openStore(clock, invalid);
    expect((await restarted.loadCall(callId))?.entries).toEqual(busyWrite('good', 1));
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatch(/^JOURNAL\/0000000000000999#other: 0\.puts\.0\./);
    await compactionUntil(clock, async () => (await items(JOURNAL_PK)).length === 1, 'the good journal item to be compacted');
    expect(new Set((await entryItems(callId)).map((item) => item.value))).toEqual(new Set(['"good"']));
    expect((await items(JOURNAL_PK)).map((item) => item.sk)).toEqual([bad.sk]);
    await restarted.close();
    // Mended, so that the next test starts from an empty journal.
    await dynamo.client.send(new PutCommand({ TableName: TABLE, Item: { ...bad, changes: Buffer.from('[]') } }));
  });

  it('does not compact once another store has taken the table: that store replays the journal instead', async () => {
    const clock = new ManualClock();
    const failures: unknown[] = [];
    const fenced = await openStore(clock, [], failures);
    const callId = await newCall(fenced);
    await warmUp(fenced, callId);
    await fenced.storeEntries(callId, busyWrite('before the takeover', 1));
    const successor = await openStore(new ManualClock());
    await compactionUntil(clock, async () => failures.length === 1, 'the compaction to be refused');
    expect(failures[0]).toBeInstanceOf(FencedError);
    expect(new Set((await entryItems(callId)).map((item) => item.value))).toEqual(new Set(['"warm"']));
    await expect(fenced.storeEntries(callId, [property('note', 'after', 2)])).rejects.toBeInstanceOf(FencedError);
    expect((await successor.loadCall(callId))?.entries).toEqual(busyWrite('before the takeover', 1));
    await Promise.all([fenced.close(), successor.close()]);
  });
});

import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { CallEntry, PropertyEntry } from '../../runtime/cds/call/call-entries';
import { FencedError } from '../../runtime/cds/clock/hybrid-clock';
import { queryAll } from '../../runtime/dynamodb/operations';
import { COMPACTION_DELAY_MS, MAX_JOURNAL_ITEM_BYTES } from '../../runtime/cds/store/entry-journal';
import { DynamoCdsStore } from '../../runtime/cds/store/dynamo-cds-store';
import { JOURNAL_PK, callPk } from '../../runtime/cds/store/store-items';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';
import { ManualClock } from '../support/cds/test-clocks';
import { waitFor } from '../support/wait-for';

// The entry journal on dynalite: entries are durable once journaled, read back through the journal before they are
// compacted, after a restart (a new store on the same table) and after compaction; compaction keeps the latest write
// of each key only.

const TABLE = 'entry-journal-test';
let dynamo: LocalDynamo;
let callCounter = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo([TABLE]);
});
afterAll(() => dynamo.close());

const property = (name: string, value: string, ts: number): PropertyEntry => ({
  kind: 'property',
  name,
  value,
  ts,
  site: 'west',
  recordedTs: ts,
});

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

const items = (pk: string) =>
  queryAll(dynamo.client, {
    TableName: TABLE,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': pk },
    ConsistentRead: true,
  });
const entryItems = async (callId: string) => (await items(callPk(callId))).filter((item) => /^[PL]#/.test(String(item.sk)));

/** Lets the compaction delay pass and waits until the journal holds nothing (compaction runs in the background). */
async function compacted(clock: ManualClock): Promise<void> {
  clock.advance(COMPACTION_DELAY_MS);
  await waitFor(async () => (await items(JOURNAL_PK)).length === 0, {
    message: 'the journal to be compacted',
  });
}

afterEach(async () => {
  // Each test starts from an empty journal: one store replays and compacts what a test left.
  const clock = new ManualClock();
  const store = await openStore(clock);
  await store.loadCall('west:none');
  await compacted(clock);
  await store.close();
});

describe('entry journal', () => {
  it('keeps only the latest write of each key when it compacts, and deletes its journal items', async () => {
    const clock = new ManualClock();
    const store = await openStore(clock);
    const callId = await newCall(store);
    for (let write = 1; write <= 20; write++) await store.storeEntries(callId, [property('queue', `position ${write}`, write), property(`field${write % 3}`, `v${write}`, write)]);
    expect(await entryItems(callId)).toEqual([]);
    expect((await items(JOURNAL_PK)).length).toBeGreaterThan(0);
    expect((await store.loadCall(callId))?.entries.map((entry) => (entry.kind === 'property' ? [entry.name, entry.value] : []))).toEqual([
      ['field0', 'v18'],
      ['field1', 'v19'],
      ['field2', 'v20'],
      ['queue', 'position 20'],
    ]);

    await compacted(clock);
    expect((await entryItems(callId)).map((item) => [item.sk, item.value])).toEqual([
      ['P#field0', '"v18"'],
      ['P#field1', '"v19"'],
      ['P#field2', '"v20"'],
      ['P#queue', '"position 20"'],
    ]);
    expect((await store.loadCall(callId))?.entries).toHaveLength(4);
    await store.close();
  });

  it('gives a store started on the table after a crash the entries journaled and not compacted', async () => {
    const crashed = await openStore(new ManualClock());
    const callId = await newCall(crashed);
    await crashed.storeEntries(callId, [property('caller', '+15550100', 1), property('note', 'first', 2)]);
    await crashed.storeEntries(callId, [property('note', 'second', 3)]);

    const clock = new ManualClock();
    const restarted = await openStore(clock);
    expect((await restarted.loadCall(callId))?.entries).toEqual([property('caller', '+15550100', 1), property('note', 'second', 3)]);
    // Its own writes go after the journal it found, and compaction keeps them.
    await restarted.storeEntries(callId, [property('note', 'third', 4)]);
    await compacted(clock);
    expect((await restarted.loadCall(callId))?.entries).toEqual([property('caller', '+15550100', 1), property('note', 'third', 4)]);
    await restarted.close();
  });

  it('replaces a record through the journal, before and after compaction and across a restart', async () => {
    const clock = new ManualClock();
    const store = await openStore(clock);
    const callId = await newCall(store);
    const held: CallEntry[] = [property('kept', 'old', 1), property('dropped', 'x', 2)];
    await store.storeEntries(callId, held);
    await compacted(clock);
    const final: CallEntry[] = [property('kept', 'final', 9)];
    await store.replaceEntries(callId, final, held);
    expect((await store.loadCall(callId))?.entries).toEqual(final);
    const restartClock = new ManualClock();
    const restarted = await openStore(restartClock);
    expect((await restarted.loadCall(callId))?.entries).toEqual(final);
    await compacted(restartClock);
    expect((await entryItems(callId)).map((item) => item.sk)).toEqual(['P#kept']);
    await Promise.all([store.close(), restarted.close()]);
  });

  it('splits a change larger than one journal item over several, all read back', async () => {
    const clock = new ManualClock();
    const store = await openStore(clock);
    const callId = await newCall(store);
    const large = Array.from({ length: 24 }, (_, index) => property(`part${String(index).padStart(2, '0')}`, 'x'.repeat(30_000), index + 1));
    const before = store.entryWriteStats().journalWrites;
    await store.storeEntries(callId, large);
    expect(store.entryWriteStats().journalWrites - before).toBeGreaterThanOrEqual(Math.ceil((24 * 30_000) / MAX_JOURNAL_ITEM_BYTES));
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
    const store = new DynamoCdsStore({
      client: slowReads,
      tableName: TABLE,
      clock,
      retentionMs: 86_400_000,
      onInvalidItem: () => undefined,
    });
    await store.clockHighWaterMark.take();
    const callId = await newCall(store);
    await store.storeEntries(callId, [property('note', 'journaled', 1)]);
    const read = store.loadCall(callId);
    await waitFor(() => heldReads === 1, {
      message: 'the read to reach the table',
    });
    await compacted(clock);
    release();
    expect((await read)?.entries).toEqual([property('note', 'journaled', 1)]);
    expect(heldReads).toBe(2);
    await store.close();
  });

  it('reports a journal item that does not parse and leaves it, replaying the others', async () => {
    const crashed = await openStore(new ManualClock());
    const callId = await newCall(crashed);
    await crashed.storeEntries(callId, [property('good', 'yes', 1)]);
    await dynamo.client.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          pk: JOURNAL_PK,
          sk: '0000000000000999#other',
          changes: Buffer.from('[{"callId":"west:x","puts":[{"kind":"property"}],"deletes":[]}]'),
        },
      }),
    );
    const invalid: string[] = [];
    const clock = new ManualClock();
    const restarted = await openStore(clock, invalid);
    expect((await restarted.loadCall(callId))?.entries).toEqual([property('good', 'yes', 1)]);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatch(/^JOURNAL\/0000000000000999#other: 0\.puts\.0\./);
    clock.advance(COMPACTION_DELAY_MS);
    await waitFor(async () => (await entryItems(callId)).length === 1, {
      message: 'the good entry to be compacted',
    });
    expect((await items(JOURNAL_PK)).map((item) => item.sk)).toEqual(['0000000000000999#other']);
    await restarted.close();
    await dynamo.client.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: JOURNAL_PK, sk: '0000000000000999#other', changes: Buffer.from('[]') },
      }),
    );
  });

  it('does not compact once another store has taken the table: that store replays the journal instead', async () => {
    const clock = new ManualClock();
    const failures: unknown[] = [];
    const fenced = await openStore(clock, [], failures);
    const callId = await newCall(fenced);
    await fenced.storeEntries(callId, [property('note', 'before the takeover', 1)]);
    const successor = await openStore(new ManualClock());
    clock.advance(COMPACTION_DELAY_MS);
    await waitFor(() => failures.length === 1, {
      message: 'the compaction to be refused',
    });
    expect(failures[0]).toBeInstanceOf(FencedError);
    expect(await entryItems(callId)).toEqual([]);
    await expect(fenced.storeEntries(callId, [property('note', 'after', 2)])).rejects.toBeInstanceOf(FencedError);
    expect((await successor.loadCall(callId))?.entries).toEqual([property('note', 'before the takeover', 1)]);
    await Promise.all([fenced.close(), successor.close()]);
  });
});

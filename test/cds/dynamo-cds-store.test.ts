import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { CallEntry, LogEntry, PropertyEntry } from '../../runtime/cds/call/call-entries';
import { systemClock } from '../../runtime/cds/clock/cds-clock';
import { DynamoCdsStore } from '../../runtime/cds/store/dynamo-cds-store';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';

const TABLE = 'cds-store-test';
let dynamo: LocalDynamo;
let store: DynamoCdsStore;
const invalid: string[] = [];
let callCounter = 0;

const property = (name: string, value: unknown, ts: number, site = 'west'): PropertyEntry => ({ kind: 'property', name, value: value as string, ts, site, recordedTs: ts });
const log = (ts: number, site = 'west'): LogEntry => ({ kind: 'log', id: `${ts}-${site}`, entry: { note: ts }, ts, site });

beforeAll(async () => {
  dynamo = await startLocalDynamo([TABLE]);
  store = new DynamoCdsStore({ client: dynamo.client, tableName: TABLE, clock: systemClock, retentionMs: 86_400_000, onInvalidItem: (key, problem) => invalid.push(`${key}: ${problem}`) });
});
afterAll(async () => {
  await store.close();
  await dynamo.close();
});

async function newCall(): Promise<string> {
  const callId = `west:call-${++callCounter}`;
  await store.createCall({ callId, owner: 'west', state: 'active' });
  return callId;
}

describe('DynamoCdsStore on dynalite', () => {
  it('stores the writes of many calls made at once, each call complete when its write resolves', async () => {
    const callIds = await Promise.all(Array.from({ length: 60 }, () => newCall()));
    await Promise.all(callIds.map((callId, index) => store.storeEntries(callId, [property('caller', `+1555${index}`, 10 + index), property('callee', '1000', 10 + index), log(5 + index)])));
    const loaded = await Promise.all(callIds.map((callId) => store.loadCall(callId)));
    loaded.forEach((call, index) => {
      expect(call?.entries.filter((entry) => entry.kind === 'property').map((entry) => [entry.name, entry.value])).toEqual(
        expect.arrayContaining([['caller', `+1555${index}`], ['callee', '1000']]),
      );
      expect(call?.entries.filter((entry) => entry.kind === 'log')).toHaveLength(1);
    });
  });

  it('keeps the last of several writes of one property in one call, and a later write over an earlier one', async () => {
    const callId = await newCall();
    await store.storeEntries(callId, [property('note', 'first', 10), property('note', 'second', 20)]);
    expect((await store.loadCall(callId))?.entries).toEqual([property('note', 'second', 20)]);
    await store.storeEntries(callId, [property('note', 'third', 30)]);
    expect((await store.loadCall(callId))?.entries).toEqual([property('note', 'third', 30)]);
  });

  it('stores log entries once each, in write order, with JSON values intact', async () => {
    const callId = await newCall();
    await store.storeEntries(callId, [log(30), log(10, 'east')]);
    await store.storeEntries(callId, [log(30), log(20)]);
    await store.storeEntries(callId, [property('nested', { a: [1, 'two', null], b: { c: true } }, 5)]);
    const loaded = await store.loadCall(callId);
    expect(loaded?.entries.filter((entry) => entry.kind === 'log').map((entry) => entry.ts)).toEqual([10, 20, 30]);
    expect(loaded?.entries.find((entry) => entry.kind === 'property')?.value).toEqual({ a: [1, 'two', null], b: { c: true } });
  });

  it('round-trips registrations, participants with cursors that only rise, and the upstream registration', async () => {
    const callId = await newCall();
    await store.putClient(callId, 'esl:abc');
    await store.putParticipant(callId, { site: 'east', ackedTs: 100 });
    await store.advanceParticipant(callId, 'east', 90);
    await store.advanceParticipant(callId, 'east', 150);
    await store.advanceParticipant(callId, 'north', 500);
    await store.putUpstream(callId, { status: 'registered', receivedTs: 10, ackedTs: 0 });
    await store.advanceUpstream(callId, 'receivedTs', 40);
    await store.advanceUpstream(callId, 'receivedTs', 30);
    const loaded = await store.loadCall(callId);
    expect(loaded).toMatchObject({
      meta: { callId, owner: 'west', state: 'active' },
      clients: ['esl:abc'],
      participants: [{ site: 'east', ackedTs: 150 }],
      upstream: { status: 'registered', receivedTs: 40, ackedTs: 0 },
    });
    await store.deleteClient(callId, 'esl:abc');
    await store.deleteParticipant(callId, 'east');
    expect(await store.loadCall(callId)).toMatchObject({ clients: [], participants: [] });
  });

  it('lists open calls until they are closed, and marks a call ended', async () => {
    const callId = await newCall();
    expect(await store.listOpenCalls()).toContain(callId);
    await store.markEnded(callId, 77);
    await store.closeCall(callId);
    expect(await store.listOpenCalls()).not.toContain(callId);
    await store.reopenCall(callId);
    expect(await store.listOpenCalls()).toContain(callId);
    await store.closeCall(callId);
    expect((await store.loadCall(callId))?.meta).toMatchObject({ state: 'ended', endedTs: 77 });
    expect(await store.loadCall('west:never-seen')).toBeUndefined();
  });

  it('replaces the held entries with a final record', async () => {
    const callId = await newCall();
    const held: CallEntry[] = [property('kept', 'old', 1), property('dropped', 'x', 2), log(3)];
    await store.storeEntries(callId, held);
    const final: CallEntry[] = [property('kept', 'final', 9, 'east'), log(4)];
    await store.replaceEntries(callId, final, held);
    const loaded = (await store.loadCall(callId))?.entries;
    expect(loaded).toHaveLength(final.length);
    expect(loaded).toEqual(expect.arrayContaining(final));
  });

  it('skips and reports an item that does not parse, keeping the rest of the call', async () => {
    const callId = await newCall();
    await store.storeEntries(callId, [property('good', 'yes', 1)]);
    await dynamo.client.send(new PutCommand({ TableName: TABLE, Item: { pk: `CALL#${callId}`, sk: 'P#bad', name: 'bad', value: 'not json {', ts: 2, site: 'west' } }));
    const loaded = await store.loadCall(callId);
    expect(loaded?.entries.map((entry) => (entry.kind === 'property' ? entry.name : entry.id))).toEqual(['good']);
    expect(invalid).toEqual([`CALL#${callId}/P#bad: value is not JSON text`]);
  });

  it('keeps one outbox message per peer, call and topic, deleting only the version delivered', async () => {
    const first = await store.putOutbox({ kind: 'register', peer: 'east', callId: 'east:o1', body: { callId: 'east:o1', site: 'west', since: 5 } });
    const second = await store.putOutbox({ kind: 'unregister', peer: 'east', callId: 'east:o1', body: { callId: 'east:o1', site: 'west' } });
    expect(second.version).toBe(first.version + 1);
    await store.deleteOutbox(first);
    expect(await store.listOutbox()).toEqual([second]);
    await store.deleteOutbox(second);
    expect(await store.listOutbox()).toEqual([]);
  });
});

import type { CallEntry } from '../../runtime/cds/call/call-entries';
import { DynamoCallArchive } from '../../runtime/cds/store/call-archive';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';

const TABLE = 'archive-test';
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo([TABLE]);
});
afterAll(() => dynamo.close());

const entries: CallEntry[] = [
  { kind: 'property', name: 'hangupCause', value: 'NORMAL_CLEARING', ts: 20, site: 'west', recordedTs: 20 },
  { kind: 'log', id: '10-east', entry: { text: 'hello' }, ts: 10, site: 'east', recordedTs: 15 },
];

describe('DynamoCallArchive', () => {
  it('writes a call once, under its call id, and reads back the final record', async () => {
    const archive = new DynamoCallArchive(dynamo.client, TABLE);
    expect(await archive.archive('west:a1', 'west', 30, entries)).toBe('written');
    expect(await archive.archive('west:a1', 'west', 31, [entries[0]])).toBe('already-archived');
    expect(await archive.read('west:a1')).toEqual({
      endedTs: 30,
      view: {
        callId: 'west:a1',
        owner: 'west',
        state: 'ended',
        properties: { hangupCause: { value: 'NORMAL_CLEARING', ts: 20, site: 'west' } },
        logs: [{ id: '10-east', ts: 10, site: 'east', entry: { text: 'hello' } }],
      },
    });
    expect(await archive.read('west:missing')).toBeUndefined();
  });

  it('lets only one of two concurrent archivers commit', async () => {
    const archive = new DynamoCallArchive(dynamo.client, TABLE);
    const outcomes = await Promise.all([archive.archive('west:a2', 'west', 5, entries), archive.archive('west:a2', 'west', 5, entries)]);
    expect(outcomes.sort()).toEqual(['already-archived', 'written']);
  });

  it('amends an archived call with writes that reached the owner after the end, and refuses before it is archived', async () => {
    const archive = new DynamoCallArchive(dynamo.client, TABLE);
    const late: CallEntry[] = [
      { kind: 'property', name: 'disposition', value: 'sale', ts: 25, site: 'east', recordedTs: 40 },
      { kind: 'log', id: '26-east', entry: 'customer agreed', ts: 26, site: 'east', recordedTs: 41 },
    ];
    await expect(archive.amend('west:a3', 'west', 30, [...entries, ...late])).rejects.toThrow(/not archived yet/);
    expect(await archive.read('west:a3')).toBeUndefined();
    await archive.archive('west:a3', 'west', 30, entries);
    await archive.amend('west:a3', 'west', 30, [...entries, ...late]);
    await archive.amend('west:a3', 'west', 30, [...entries, ...late]);
    const amended = await archive.read('west:a3');
    expect(amended?.endedTs).toBe(30);
    expect(amended?.view.properties).toEqual({
      disposition: { value: 'sale', ts: 25, site: 'east' },
      hangupCause: { value: 'NORMAL_CLEARING', ts: 20, site: 'west' },
    });
    expect(amended?.view.logs.map((log) => log.id)).toEqual(['10-east', '26-east']);
  });

  it('never rolls an archived entry back: a stale property or a rewritten log entry leaves the archive as it was', async () => {
    const archive = new DynamoCallArchive(dynamo.client, TABLE);
    await archive.archive('west:a4', 'west', 30, entries);
    const stale: CallEntry[] = [
      { kind: 'property', name: 'hangupCause', value: 'FORGED', ts: 19, site: 'west', recordedTs: 50 },
      { kind: 'log', id: '10-east', entry: { text: 'forged' }, ts: 10, site: 'east', recordedTs: 51 },
    ];
    await archive.amend('west:a4', 'west', 30, stale);
    await archive.archive('west:a4', 'west', 30, stale);
    const kept = await archive.read('west:a4');
    expect(kept?.view.properties).toEqual({ hangupCause: { value: 'NORMAL_CLEARING', ts: 20, site: 'west' } });
    expect(kept?.view.logs).toEqual([{ id: '10-east', ts: 10, site: 'east', entry: { text: 'hello' } }]);
  });
});

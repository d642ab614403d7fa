import type { CallEntry } from '../../runtime/cds/call-entries';
import { DynamoCallArchive } from '../../runtime/cds/call-archive';
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
});

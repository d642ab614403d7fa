import { DEFAULT_LIMITS } from '../../runtime/cds/cds-limits';
import { CallTimestamps } from '../../runtime/cds/clock/call-timestamps';
import { HybridClock } from '../../runtime/cds/clock/hybrid-clock';
import { OwnerClockOffsets } from '../../runtime/cds/clock/owner-clock-offsets';
import type { CallStore } from '../../runtime/cds/store/cds-store';
import { CursorWrites } from '../../runtime/cds/store/cursor-writes';
import { DynamoCdsStore } from '../../runtime/cds/store/dynamo-cds-store';
import { LocalCallStore } from '../../runtime/cds/store/local-call-store';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';
import { memoryLogger } from '../support/cds/memory-logger';
import { ManualClock } from '../support/cds/test-clocks';
import { waitFor } from '../support/wait-for';

const TABLE = 'cursor-writes-test';
const SAVE_INTERVAL_MS = 5_000;
let dynamo: LocalDynamo;
let table: DynamoCdsStore;
let counter = 0;
type CursorTable = ConstructorParameters<typeof CursorWrites>[0];

beforeAll(async () => {
  dynamo = await startLocalDynamo([TABLE]);
});
afterAll(() => dynamo.close());

/** East's node over the real table: its calls in memory, and cursors saved every SAVE_INTERVAL_MS of a manual clock. */
async function eastNode(cursorTable: (store: CallStore) => CursorTable = (store) => store) {
  const clock = new ManualClock();
  table = new DynamoCdsStore({ client: dynamo.client, tableName: TABLE, clock, retentionMs: 86_400_000, onInvalidItem: () => undefined });
  const { logger, entries: log } = memoryLogger('east');
  const cursorWrites = new CursorWrites(cursorTable(table), clock, SAVE_INTERVAL_MS, logger);
  const hlc = await HybridClock.start(clock, table.clockHighWaterMark);
  const timestamps = new CallTimestamps({ site: 'east', hlc, offsets: new OwnerClockOffsets(clock), maxAheadMs: 1_000 });
  const calls = new LocalCallStore({ site: 'east', store: table, cursorWrites, timestamps, maxCallBytes: 1 << 20, clock, limits: DEFAULT_LIMITS, backoff: { initialDelayMs: 1, maxDelayMs: 1 }, random: Math.random });
  const evictAll = () => calls.evict(Number.MAX_SAFE_INTEGER, 0);
  return { clock, cursorWrites, calls, evictAll, log };
}

async function foreignCall(): Promise<string> {
  const callId = `west:call-${++counter}`;
  await table.createCall({ callId, owner: 'west', state: 'active' });
  await table.putUpstream(callId, { status: 'registered', receivedTs: 0, ackedTs: 0 });
  return callId;
}

async function ownCall(participant: string): Promise<string> {
  const callId = `east:call-${++counter}`;
  await table.createCall({ callId, owner: 'east', state: 'active' });
  await table.putParticipant(callId, { site: participant, ackedTs: 0 });
  return callId;
}

describe('delivery cursors not saved yet', () => {
  it('are taken back by a foreign call read again from the table after it left memory', async () => {
    const { cursorWrites, calls, evictAll } = await eastNode();
    const callId = await foreignCall();
    const call = await calls.load(callId);
    if (!call?.upstream) throw new Error('the call was not loaded with its registration');
    call.upstream = { ...call.upstream, receivedTs: 400, ackedTs: 500 };
    cursorWrites.advanceUpstream(callId, 'receivedTs', 400);
    cursorWrites.advanceUpstream(callId, 'ackedTs', 500);
    expect(evictAll()).toBe(1);

    expect((await table.loadCall(callId))?.upstream).toMatchObject({ receivedTs: 0, ackedTs: 0 });
    expect((await calls.load(callId))?.upstream).toMatchObject({ receivedTs: 400, ackedTs: 500 });
    await cursorWrites.flush();
    expect((await table.loadCall(callId))?.upstream).toMatchObject({ receivedTs: 400, ackedTs: 500 });
  });

  it("are taken back by an owned call's participants read again from the table", async () => {
    const { cursorWrites, calls, evictAll } = await eastNode();
    const callId = await ownCall('west');
    await calls.load(callId);
    cursorWrites.advanceParticipant(callId, 'west', 700);
    evictAll();
    expect((await calls.find(callId))?.participants.get('west')).toEqual({ ackedTs: 700 });
    expect((await table.loadCall(callId))?.participants).toEqual([{ site: 'west', ackedTs: 0 }]);
  });

  it('are written at the next save when a write fails, and still taken back meanwhile', async () => {
    let failuresLeft = 1;
    const { clock, cursorWrites, calls, evictAll, log } = await eastNode((store) => ({
      advanceParticipant: (...args) => store.advanceParticipant(...args),
      advanceUpstream: async (...args) => {
        if (failuresLeft-- > 0) throw new Error('table unreachable');
        await store.advanceUpstream(...args);
      },
    }));
    const callId = await foreignCall();
    await calls.load(callId);
    cursorWrites.advanceUpstream(callId, 'ackedTs', 900);
    await cursorWrites.flush();
    expect(log.map((entry) => entry.msg)).toContain('some delivery cursors were not saved; entries may be sent again');
    evictAll();
    expect((await calls.find(callId))?.upstream?.ackedTs).toBe(900);

    clock.advance(SAVE_INTERVAL_MS);
    await cursorWrites.close();
    expect((await table.loadCall(callId))?.upstream?.ackedTs).toBe(900);
  });

  it('forget a cursor being reset, so the reset written to the table is not raised again', async () => {
    const { cursorWrites, calls, evictAll } = await eastNode();
    const callId = await foreignCall();
    await calls.load(callId);
    cursorWrites.advanceUpstream(callId, 'receivedTs', 300);
    cursorWrites.discardUpstream(callId, 'receivedTs');
    evictAll();
    expect((await calls.find(callId))?.upstream?.receivedTs).toBe(0);
  });
});

describe('a periodic save of delivery cursors', () => {
  it('writes them one at a time spread over half the interval, and a stop writes the rest at once', async () => {
    await eastNode(); // opens the table the calls are created in
    const callIds = [await ownCall('west'), await ownCall('west'), await ownCall('west'), await ownCall('west')];
    const clock = new ManualClock();
    const writtenAt: number[] = [];
    const recordingTable: CursorTable = {
      advanceParticipant: async (...args) => {
        writtenAt.push(clock.now());
        await table.advanceParticipant(...args);
      },
      advanceUpstream: (...args) => table.advanceUpstream(...args),
    };
    const cursorWrites = new CursorWrites(recordingTable, clock, SAVE_INTERVAL_MS, memoryLogger('east').logger);
    callIds.forEach((callId, index) => cursorWrites.advanceParticipant(callId, 'west', 100 + index));
    const spacingMs = SAVE_INTERVAL_MS / 2 / callIds.length;

    clock.advance(SAVE_INTERVAL_MS);
    const savedAt = clock.now();
    const waitingAfter = (writes: number) => waitFor(() => writtenAt.length === writes && clock.pendingTimers === 1, { message: `a save waiting after ${writes} writes` });
    await waitingAfter(1);
    clock.advance(spacingMs - 1);
    expect(writtenAt).toEqual([savedAt]);
    clock.advance(1);
    await waitingAfter(2);
    expect(writtenAt).toEqual([savedAt, savedAt + spacingMs]);

    await cursorWrites.close();
    expect(writtenAt).toEqual([savedAt, savedAt + spacingMs, savedAt + spacingMs, savedAt + spacingMs]);
    for (const [index, callId] of callIds.entries()) expect((await table.loadCall(callId))?.participants).toEqual([{ site: 'west', ackedTs: 100 + index }]);
  });
});

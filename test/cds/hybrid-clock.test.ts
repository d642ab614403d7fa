import { DynamoCdsStore } from '../../runtime/cds/store/dynamo-cds-store';
import { hlcAtMs } from '../../runtime/cds/clock/hlc';
import { HybridClock } from '../../runtime/cds/clock/hybrid-clock';
import { startLocalDynamo, type LocalDynamo } from '../support/cds/local-dynamo';
import { SkewedClock } from '../support/cds/test-clocks';

const TABLE = 'hybrid-clock-test';
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo([TABLE]);
});
afterAll(() => dynamo.close());

function storeFor(clock: SkewedClock): DynamoCdsStore {
  return new DynamoCdsStore({ client: dynamo.client, tableName: TABLE, clock, retentionMs: 60_000, onInvalidItem: () => undefined });
}

describe('HybridClock with a persisted high-water mark', () => {
  it('issues increasing stamps and, restarted with its wall clock set back a minute, stays above them', async () => {
    const wallClock = new SkewedClock();
    const store = storeFor(wallClock);
    const before = await HybridClock.start(wallClock, store.clockHighWaterMark, 1000);
    const issued: number[] = [];
    for (let index = 0; index < 50; index++) issued.push(await before.next());
    expect(issued).toEqual([...issued].sort((a, b) => a - b));
    expect(new Set(issued).size).toBe(issued.length);

    wallClock.offsetMs = -60_000;
    const after = await HybridClock.start(wallClock, store.clockHighWaterMark, 1000);
    expect(await after.next()).toBeGreaterThan(Math.max(...issued));
    expect(await store.clockHighWaterMark.take()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('moves past an observed timestamp and reports owner time in milliseconds', async () => {
    const wallClock = new SkewedClock();
    const clock = await HybridClock.start(wallClock, storeFor(wallClock).clockHighWaterMark);
    const ahead = hlcAtMs(Date.now() + 3_600_000);
    clock.observe(ahead);
    expect(await clock.next()).toBe(ahead + 1);
    expect(clock.nowMs()).toBeGreaterThanOrEqual(Date.now() + 3_599_000);
  });
});

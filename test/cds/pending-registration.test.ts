import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { SkewedClock } from '../support/cds/test-clocks';
import { waitFor } from '../support/wait-for';

// Issue 14 item 6: the peer API never creates calls. A registration at participant east for a call owner west does
// not know (yet, or ever) stays pending at east, is asked for again apart from east's other deliveries, and is given
// up when the call reaches its maximum age at east. West's peer URL for east never answers: east is only a participant.

const MAX_AGE_MS = 60_000;
const MAX_OPEN_CALLS = 4;
let west: SingleNode;
let east: SingleNode;
const eastClock = new SkewedClock();

beforeAll(async () => {
  west = await startSingleNode('west', { east: 'http://127.0.0.1:9' }, { heartbeatMs: 60_000, endGraceMs: 60_000 });
  east = await startSingleNode(
    'east',
    { west: `http://127.0.0.1:${west.node.peerPort}` },
    { heartbeatMs: 60_000 },
    { clock: eastClock, limits: { maxOpenCalls: MAX_OPEN_CALLS, maxCallAgeMs: MAX_AGE_MS, sweepIntervalMs: 20 } },
  );
});
afterAll(async () => {
  await east.stop();
  await west.stop();
});

const registrationsSent = (): number => ((east.node.health().sent as Record<string, { requests: number }>)['/v1/peer/register']?.requests ?? 0);

describe('a registration for a call the owner does not know', () => {
  it('stays pending, is asked for again without holding up the other calls, and creates nothing at the owner', async () => {
    expect(await east.client.register('west:not-yet', 'crm')).toMatchObject({ status: 201, body: { upstream: 'pending' } });
    const sentBefore = registrationsSent();
    await waitFor(() => registrationsSent() >= sentBefore + 2, { message: 'the pending registration to be asked for again' });
    expect(await east.client.participants('west:not-yet')).toMatchObject({ upstream: 'pending' });
    expect(east.node.health().pendingRegistrations).toBe(1);
    expect(await west.client.call('west:not-yet')).toBeUndefined();
    expect(west.node.health().openCalls).toBe(0);

    // Meanwhile a call west knows registers at once, and east's writes to it are delivered.
    await west.client.put('west:known', 'caller', '+15550100');
    expect(await east.client.register('west:known', 'crm')).toMatchObject({ status: 201, body: { upstream: 'registered' } });
    await east.client.put('west:known', 'crm.note', 'delivered');
    await waitFor(async () => (await west.client.call('west:known'))?.properties['crm.note']?.value === 'delivered', { message: "east's write at west" });
    await east.client.unregister('west:known', 'crm');
    await waitFor(async () => (await west.client.participants('west:known')).remote.length === 0, { message: 'east to leave west:known' });
  });

  it('is bounded by the open calls the participant may hold, and given up at their maximum age', async () => {
    const junk = Array.from({ length: MAX_OPEN_CALLS + 2 }, (_, index) => `west:junk-${index}`);
    const statuses = [];
    for (const callId of junk) statuses.push((await east.client.register(callId, `crawler-${callId}`)).status);
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(2);
    await waitFor(() => Number(east.node.health().pendingRegistrations) > 1, { message: 'the junk registrations to be pending' });
    expect(Number(east.node.health().pendingRegistrations)).toBeLessThanOrEqual(MAX_OPEN_CALLS);
    expect(west.node.health().openCalls).toBe(1);

    eastClock.offsetMs += MAX_AGE_MS + 1;
    await waitFor(() => east.node.health().pendingRegistrations === 0 && east.node.health().openCalls === 0, { message: 'the pending registrations to be given up at the maximum age' });
    expect(await east.client.participants('west:not-yet')).toMatchObject({ local: [], upstream: 'unregistered' });
    expect(west.node.health().openCalls).toBe(1);
  });
});

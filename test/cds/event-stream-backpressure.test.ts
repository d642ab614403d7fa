import { request, type IncomingMessage } from 'http';
import { cdsRequest, TEST_LOCAL_AUTHORIZATION } from '../support/cds/cds-http';
import { EventStreamReader } from '../support/cds/event-stream-reader';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { waitFor } from '../support/wait-for';

/** An event stream whose client reads the headers, then nothing more (its socket is paused). */
function openPausedStream(port: number, callId: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path: `/v1/calls/${callId}/events`, agent: false, headers: TEST_LOCAL_AUTHORIZATION }, (response) => {
      response.pause();
      response.on('error', () => undefined);
      resolve(response);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const eventStreams = async (site: SingleNode) => (await site.client.health()) as { eventStreams: number; eventStreamBufferedBytes: number; droppedEventStreams: number };

describe('an event-stream client that stops reading', () => {
  const BOUND_BYTES = 256 * 1024;
  const VALUE = 'x'.repeat(30 * 1024);
  /** Far more than the loopback socket buffers of both ends hold. */
  const WRITE_AT_MOST_BYTES = 48 * 1024 * 1024;
  let site: SingleNode;
  beforeAll(async () => {
    site = await startSingleNode('west', {}, { endGraceMs: 60_000 }, { limits: { maxEventStreamBufferedBytes: BOUND_BYTES } });
  });
  afterAll(() => site.stop());

  it('is dropped once the node holds more than the bound for it; the node never buffers much more, and readers keep their stream', async () => {
    const callId = 'west:slow-reader';
    await site.client.put(callId, 'caller', '+15550100');
    const reader = await EventStreamReader.open(site.node.port, callId);
    const paused = await openPausedStream(site.node.port, callId);
    await waitFor(async () => (await eventStreams(site)).eventStreams === 2, { message: 'both streams to open' });

    let written = 0;
    let mostBuffered = 0;
    let sequence = 0;
    let dropped = false;
    while (!dropped && written < WRITE_AT_MOST_BYTES) {
      await Promise.all(Array.from({ length: 8 }, () => site.client.put(callId, 'payload', { sequence: ++sequence, filler: VALUE })));
      written += 8 * VALUE.length;
      const streams = await eventStreams(site);
      mostBuffered = Math.max(mostBuffered, streams.eventStreamBufferedBytes ?? Infinity);
      dropped = streams.droppedEventStreams === 1;
    }

    expect({ dropped, overBound: mostBuffered > BOUND_BYTES + 2 * VALUE.length }).toEqual({ dropped: true, overBound: false });
    await waitFor(async () => (await eventStreams(site)).eventStreams === 1, { message: 'the paused stream to be forgotten' });
    await site.client.put(callId, 'last', sequence);
    await waitFor(() => reader.named('update').some((update) => (update as { properties: { last?: { value: number } } }).properties.last?.value === sequence), {
      message: 'the reading client to get the last update',
    });
    reader.close();
    paused.destroy();
  });
});

describe('event streams beyond the caps', () => {
  let site: SingleNode;
  beforeAll(async () => {
    site = await startSingleNode('west', {}, { endGraceMs: 60_000 }, { limits: { maxEventStreams: 3, maxEventStreamsPerCall: 2 } });
  });
  afterAll(() => site.stop());

  it('are refused: 429 beyond the streams of one call, 503 beyond those of the node; a closed stream makes room', async () => {
    const first = await EventStreamReader.open(site.node.port, 'west:watched');
    const second = await EventStreamReader.open(site.node.port, 'west:watched');
    expect(await cdsRequest(site.node.port, 'GET', '/v1/calls/west:watched/events')).toEqual({ status: 429, body: { error: expect.stringContaining('2 event streams'), reason: 'too-many-streams' } });
    const other = await EventStreamReader.open(site.node.port, 'west:other');
    expect(await cdsRequest(site.node.port, 'GET', '/v1/calls/west:third/events')).toEqual({ status: 503, body: { error: expect.stringContaining('3 event streams'), reason: 'too-many-streams' } });

    first.close();
    await waitFor(async () => (await eventStreams(site)).eventStreams === 2, { message: 'the closed stream to be forgotten' });
    const again = await EventStreamReader.open(site.node.port, 'west:watched');
    [second, other, again].forEach((reader) => reader.close());
  });
});

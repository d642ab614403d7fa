import { createServer } from 'net';
import { RouteTable } from '../../runtime/dialplan';
import { MediaServerClient } from '../../runtime/media-server';
import { CallOutcome, FreeSwitchSimulator } from '../support/freeswitch/freeswitch-simulator';
import { RunningGroup, spawnCallControl, startCallControl } from '../support/call-control-fixture';
import { CALL_CONTEXT, eslOptions, startMediaServer } from '../support/media-server-fixture';
import { waitFor } from '../support/wait-for';

type ConnectedClient = Awaited<ReturnType<typeof MediaServerClient.connect>>;

function routeTo(...groups: Array<{ id: string; ports: number[]; state?: 'active' | 'drained' }>): RouteTable {
  return { groups: groups.map(({ id, ports, state }) => ({ id, endpoints: ports.map((port) => ({ host: '127.0.0.1', port })), state: state ?? 'active' })) };
}

async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** When the switch created the call (its hunt follows immediately), in ms since the epoch. */
const startedAtMs = (outcome: CallOutcome) => Number(outcome.variables.start_uepoch) / 1000;
const groupOf = (outcome: CallOutcome) => outcome.variables.vp_cc_group;

/** Deterministic PRNG so a failing interleaving can be replayed from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('call routing through the rendered dialplan, the simulator and real call-control services', () => {
  let simulator: FreeSwitchSimulator;
  let client: ConnectedClient;
  const groups: RunningGroup[] = [];

  beforeEach(async () => {
    simulator = await startMediaServer();
    client = await MediaServerClient.connect(eslOptions(simulator));
  });

  afterEach(async () => {
    await client.close();
    await Promise.all(groups.splice(0).map((group) => group.stop()));
    await simulator.stop();
  });

  async function group(id: string) {
    const running = await startCallControl(id);
    groups.push(running);
    return running;
  }

  it('drain under continuous calls: no new call reaches the drained group, calls in progress end naturally', async () => {
    const blue = await group('blue');
    const green = await group('green');
    await client.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }, { id: 'green', ports: [green.eslPort] }));
    const batch = simulator.placeCalls({ count: 60, ratePerSecond: 60, destination: '15551234567', context: CALL_CONTEXT, durationMs: () => 300 + Math.floor(Math.random() * 400) });

    await waitFor(() => simulator.stats().callsPlaced >= 20, { message: 'a third of the calls placed' });
    let drainApplied = 0;
    const timed = new MediaServerClient({
      api: async (command) => {
        const reply = await client['esl'].api(command);
        if (command.startsWith('db insert/')) drainApplied = Date.now();
        return reply;
      },
    });
    await timed.drain('blue');
    await batch.placed;
    const outcomes = await batch.outcomes();

    expect(outcomes).toHaveLength(60);
    expect(outcomes.filter((outcome) => outcome.hangupCause !== 'NORMAL_CLEARING' || !outcome.answered)).toEqual([]);
    const onBlue = outcomes.filter((outcome) => groupOf(outcome) === 'blue');
    expect(onBlue.length).toBeGreaterThan(0);
    expect(onBlue.filter((outcome) => startedAtMs(outcome) > drainApplied)).toEqual([]);
    const afterDrain = outcomes.filter((outcome) => startedAtMs(outcome) > drainApplied);
    expect(afterDrain.length).toBeGreaterThan(10);
    expect(afterDrain.every((outcome) => groupOf(outcome) === 'green')).toBe(true);
    expect(await client.activeCalls()).toEqual({ total: 0, byGroup: { blue: 0, green: 0 } });
  });

  it('fails over to the next endpoint of a group when the first refuses connections', async () => {
    const blue = await group('blue');
    const green = await group('green');
    await client.setRoutes(routeTo({ id: 'blue', ports: [await refusingPort(), blue.eslPort] }, { id: 'green', ports: [green.eslPort] }));
    const outcomes = await Promise.all([1, 2, 3].map(() => simulator.placeCall({ destination: '15551234567', context: CALL_CONTEXT, durationMs: 1_000 }).outcome));
    expect(outcomes.map((outcome) => [groupOf(outcome), outcome.answered, outcome.hangupCause])).toEqual(Array(3).fill(['blue', true, 'NORMAL_CLEARING']));
  });

  it('moves to the next group when every endpoint of the first refuses', async () => {
    const green = await group('green');
    await client.setRoutes(routeTo({ id: 'blue', ports: [await refusingPort()] }, { id: 'green', ports: [green.eslPort] }));
    const outcome = await simulator.placeCall({ destination: '15551234567', context: CALL_CONTEXT, durationMs: 1_000 }).outcome;
    expect([groupOf(outcome), outcome.answered, outcome.hangupCause]).toEqual(['green', true, 'NORMAL_CLEARING']);
  });

  it('keeps a call up when its call-control process is killed mid-call, and re-homes it to a live group', async () => {
    const blue = await spawnCallControl('blue');
    groups.push(blue);
    const green = await group('green');
    await client.setRoutes(routeTo({ id: 'blue', ports: [blue.eslPort] }, { id: 'green', ports: [green.eslPort] }));
    const call = simulator.placeCall({ destination: '15551234567', context: CALL_CONTEXT, durationMs: 2_000 });
    await waitFor(() => simulator.channels().some((channel) => channel.uuid === call.uuid && channel.answered), { message: 'call answered by blue' });
    blue.process.kill('SIGKILL');
    await waitFor(() => green.service.status().activeCalls === 1, { message: 'call re-homed to green' });
    const outcome = await call.outcome;
    expect(outcome.answered).toBe(true);
    expect(outcome.hangupCause).toBe('NORMAL_CLEARING');
    expect(outcome.durationMs).toBeGreaterThanOrEqual(2_000);
  });

  it('random interleavings of route edits and call arrivals never route a call to a group drained before it arrived', async () => {
    const running = await Promise.all(['blue', 'green', 'red'].map(group));
    let table = await client.setRoutes(routeTo(...running.map((member) => ({ id: member.group, ports: [member.eslPort] }))));
    const seed = Number(process.env.VOICEPLANE_PROPERTY_SEED ?? Date.now() % 100_000);
    const random = seededRandom(seed);
    const checks: Promise<void>[] = [];
    for (let step = 0; step < 80; step++) {
      const id = running[Math.floor(random() * running.length)].group;
      const action = random();
      if (action < 0.25) {
        const active = table.groups.filter((candidate) => candidate.state === 'active').length;
        if (active > 1) table = await client.drain(id);
      } else if (action < 0.45) {
        table = await client.restore(id);
      } else {
        const drainedAtArrival = new Set(table.groups.filter((candidate) => candidate.state === 'drained').map((candidate) => candidate.id));
        const call = simulator.placeCall({ destination: '15551234567', context: CALL_CONTEXT, durationMs: 300 + Math.floor(random() * 300) });
        checks.push(
          call.outcome.then((outcome) => {
            if (drainedAtArrival.has(groupOf(outcome))) throw new Error(`seed ${seed}: call ${outcome.uuid} reached ${groupOf(outcome)}, drained before it arrived`);
            expect(outcome.answered).toBe(true);
          }),
        );
        // Let the call hunt before the next edit, as a call arriving between two edits would.
        await waitFor(() => simulator.channels().some((channel) => channel.uuid === call.uuid && channel.variables.vp_cc_group !== undefined) || !simulator.channels().some((channel) => channel.uuid === call.uuid), { message: `seed ${seed}: call hunted` });
      }
    }
    await Promise.all(checks);
  });
});

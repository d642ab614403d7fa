import { createServer, Server } from 'net';
import { RouteTable, encodeRouteTable } from '../../runtime/dialplan';
import { EslAuthError } from '../../runtime/esl';
import { MediaServerClient, RouteVerificationError } from '../../runtime/media-server';
import { FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { startCallControl } from '../support/call-control-fixture';
import { CALL_CONTEXT, eslOptions, startMediaServer } from '../support/media-server-fixture';
import { waitFor } from '../support/wait-for';

type ConnectedClient = Awaited<ReturnType<typeof MediaServerClient.connect>>;

/** Ports on loopback that refuse connections: a listener bound then closed. */
async function refusingPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function table(...groups: Array<[id: string, port: number, state?: 'active' | 'drained']>): RouteTable {
  return { groups: groups.map(([id, port, state]) => ({ id, endpoints: [{ host: '127.0.0.1', port }], state: state ?? 'active' })) };
}

describe('MediaServerClient against the FreeSWITCH simulator', () => {
  let simulator: FreeSwitchSimulator;
  let client: ConnectedClient;

  beforeEach(async () => {
    simulator = await startMediaServer();
    client = await MediaServerClient.connect(eslOptions(simulator));
  });

  afterEach(async () => {
    await client.close();
    await simulator.stop();
  });

  it('reports no route table on a fresh media server', async () => {
    await expect(client.routes()).resolves.toBeUndefined();
  });

  it('writes the table to the hash calls read and the db a restart reads, and reads back exactly what the dialplan will see', async () => {
    const written = await client.setRoutes(table(['blue', 9001], ['green', 9002]));
    expect(written).toEqual(table(['blue', 9001], ['green', 9002]));
    expect(simulator.api('hash select/voiceplane/call_control_routes')).toBe(encodeRouteTable(written));
    expect(simulator.api('db select/voiceplane/call_control_routes')).toBe(encodeRouteTable(written));
  });

  it('drains and restores a group, and refuses to drain the last active group leaving the table unchanged', async () => {
    await client.setRoutes(table(['blue', 9001], ['green', 9002]));
    expect(await client.drain('blue')).toEqual(table(['blue', 9001, 'drained'], ['green', 9002]));
    const before = simulator.api('db select/voiceplane/call_control_routes');
    await expect(client.drain('green')).rejects.toThrow(/refusing to drain 'green': it is the last active call-control group/);
    expect(simulator.api('db select/voiceplane/call_control_routes')).toBe(before);
    expect(simulator.api('hash select/voiceplane/call_control_routes')).toBe(before);
    expect(await client.restore('blue')).toEqual(table(['blue', 9001], ['green', 9002]));
  });

  it('gives a group a share of new calls and takes it away, in both stores, and refuses a share the table cannot honour', async () => {
    await client.setRoutes(table(['blue', 9001], ['green', 9002]));
    const canary = await client.setShare('blue', 10);
    expect(canary.groups.map((group) => group.share)).toEqual([10, undefined]);
    expect(simulator.api('hash select/voiceplane/call_control_routes')).toBe(encodeRouteTable(canary));
    expect(simulator.api('db select/voiceplane/call_control_routes')).toBe(encodeRouteTable(canary));
    await expect(client.setShare('green', 95)).rejects.toThrow('shares add up to 105%, more than 100%');
    expect(await client.routes()).toEqual(canary);
    expect(await client.setShare('blue', undefined)).toEqual(table(['blue', 9001], ['green', 9002]));
  });

  it('refuses a table with no active group before writing anything', async () => {
    await expect(client.setRoutes(table(['blue', 9001, 'drained']))).rejects.toThrow(/no active call-control group/);
    await expect(client.routes()).resolves.toBeUndefined();
  });

  it('keeps the route table across a FreeSWITCH restart (core db), and a new connection reads it', async () => {
    await client.setRoutes(table(['blue', 9001, 'drained'], ['green', 9002]));
    await client.close();
    await simulator.restart();
    client = await MediaServerClient.connect(eslOptions(simulator));
    expect(simulator.api('hash select/voiceplane/call_control_routes')).toBe('-ERR no reply\n');
    expect(await client.routes()).toEqual(table(['blue', 9001, 'drained'], ['green', 9002]));
  });

  it('detects a concurrent writer through the read-back', async () => {
    const racing = {
      api: async (command: string) => {
        const reply = simulator.api(command);
        if (command.startsWith('db insert/')) simulator.api(`db insert/voiceplane/call_control_routes/${encodeRouteTable(table(['green', 9002]))}`);
        return reply;
      },
    };
    await expect(new MediaServerClient(racing).setRoutes(table(['blue', 9001], ['green', 9002]))).rejects.toBeInstanceOf(RouteVerificationError);
  });

  it('counts calls per group from FreeSWITCH and ends an unroutable call in the explicit fallback', async () => {
    await client.setRoutes(table(['blue', await refusingPort()], ['green', await refusingPort()]));
    const outcome = await simulator.placeCall({ destination: '15551230000', context: CALL_CONTEXT, durationMs: 1_000 }).outcome;
    expect(outcome.hangupCause).toBe('NORMAL_TEMPORARY_FAILURE');
    expect(outcome.applications.map((app) => app.name)).toContain('respond');
    expect(await client.activeCalls()).toEqual({ total: 0, byGroup: { blue: 0, green: 0 } });
  });

  it('counts live calls per group and in total while they are up, and none once they ended', async () => {
    const blue = await startCallControl('blue');
    const green = await startCallControl('green');
    try {
      await client.setRoutes(table(['blue', blue.eslPort], ['green', green.eslPort]));
      const placeAnsweredCalls = async (count: number) => {
        const calls = Array.from({ length: count }, () => simulator.placeCall({ destination: '15551230000', context: CALL_CONTEXT, durationMs: 60_000 }));
        const answered = (uuid: string) => simulator.channels().some((channel) => channel.uuid === uuid && channel.answered);
        await waitFor(() => calls.every((call) => answered(call.uuid)), { message: `${count} calls answered` });
        return calls;
      };
      const onBlue = await placeAnsweredCalls(3);
      await client.drain('blue');
      const calls = [...onBlue, ...(await placeAnsweredCalls(2))];

      expect(await client.activeCalls()).toEqual({ total: 5, byGroup: { blue: 3, green: 2 } });
      expect(await client.activeCalls('green')).toEqual({ total: 5, byGroup: { green: 2 } });

      calls.forEach((call) => simulator.killCall(call.uuid));
      await Promise.all(calls.map((call) => call.outcome));
      expect(await client.activeCalls()).toEqual({ total: 0, byGroup: { blue: 0, green: 0 } });
    } finally {
      await Promise.all([blue.stop(), green.stop()]);
    }
  });

  it('reads the switch status', async () => {
    const status = await client.status();
    expect(status.ready).toBe(true);
    expect(status.version).toMatch(/^\d+\.\d+/);
  });

  it('fails authentication with a wrong password', async () => {
    await expect(MediaServerClient.connect({ ...eslOptions(simulator), password: 'wrong' })).rejects.toBeInstanceOf(EslAuthError);
  });
});

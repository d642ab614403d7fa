import { CallControlService, type BoundPorts, type CallControlServiceOptions } from '../../runtime/call-control';
import {
  CALL_CONTROL_GROUP_VARIABLE,
  encodeRouteTable,
  renderCallControlDialplan,
  REHOME_TALLY_VARIABLE,
  ROUTE_TABLE_DB_KEY,
  ROUTE_TABLE_DB_REALM,
} from '../../runtime/dialplan';
import { FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { waitFor } from '../support/wait-for';
import { requestJson } from './http-get';
import { recordingLogger } from './recording-logger';

// End to end with the rendered dialplan: a draining group's calls stay up and new calls move to the next group.

const CONTEXT = 'public';

let simulator: FreeSwitchSimulator;
const services: CallControlService[] = [];

async function startGroup(group: string, extra: Partial<CallControlServiceOptions> = {}): Promise<{ service: CallControlService; ports: BoundPorts }> {
  const service = new CallControlService({
    group,
    version: '1.0.0',
    eslListen: { host: '127.0.0.1', port: 0 },
    httpListen: { host: '127.0.0.1', port: 0 },
    logger: recordingLogger().logger,
    ...extra,
  });
  services.push(service);
  return { service, ports: await service.start() };
}

function routeTo(groups: ReadonlyArray<{ id: string; port: number }>): void {
  const table = encodeRouteTable({
    groups: groups.map(({ id, port }) => ({ id, state: 'active' as const, endpoints: [{ host: '127.0.0.1', port }] })),
  });
  expect(simulator.api(`db insert/${ROUTE_TABLE_DB_REALM}/${ROUTE_TABLE_DB_KEY}/${table}`)).toBe('+OK');
}

async function activeCalls(ports: BoundPorts): Promise<number> {
  return ((await requestJson(ports.httpPort, '/calls')).body as { active: number }).active;
}

async function waitUntilAnswered(uuid: string): Promise<void> {
  await waitFor(() => simulator.channels().some((channel) => channel.uuid === uuid && channel.answered), { message: `call ${uuid} to be answered` });
}

function channelVariable(uuid: string, name: string): string | undefined {
  return simulator.channels().find((channel) => channel.uuid === uuid)?.variables[name];
}

beforeEach(async () => {
  simulator = new FreeSwitchSimulator({ dialplanXml: renderCallControlDialplan({ context: CONTEXT }), connectTimeoutMs: 500 });
  await simulator.start();
});

afterEach(async () => {
  await simulator.stop();
  await Promise.all(services.splice(0).map((service) => service.stop()));
});

describe('CallControlService behind the simulated media server', () => {
  it('drains: the call in progress stays with its group, new calls fail over to the next group', async () => {
    const blue = await startGroup('blue');
    const green = await startGroup('green');
    routeTo([{ id: 'blue', port: blue.ports.eslPort }, { id: 'green', port: green.ports.eslPort }]);

    const first = simulator.placeCall({ destination: '1000', context: CONTEXT });
    await waitFor(async () => (await activeCalls(blue.ports)) === 1, { message: 'blue to take the first call' });
    await waitUntilAnswered(first.uuid);
    const shutdown = blue.service.shutdown();

    const second = simulator.placeCall({ destination: '1001', context: CONTEXT });
    await waitFor(async () => (await activeCalls(green.ports)) === 1, { message: 'green to take the second call' });
    expect(channelVariable(second.uuid, CALL_CONTROL_GROUP_VARIABLE)).toBe('green');
    expect(await activeCalls(blue.ports)).toBe(1);

    expect(simulator.killCall(first.uuid)).toBe(true);
    await expect(shutdown).resolves.toEqual({ drained: 1, detachedAtDeadline: 0 });
    const outcome = await first.outcome;
    expect(outcome).toMatchObject({ answered: true, hangupCause: 'NORMAL_CLEARING' });
    expect(outcome.applications.map((application) => application.name)).toContain('answer');
  });

  it('a call still up at the deadline is detached and the dialplan re-homes it to the next group, not dropped', async () => {
    const blue = await startGroup('blue', { shutdownGraceMs: 50 });
    const green = await startGroup('green');
    routeTo([{ id: 'blue', port: blue.ports.eslPort }, { id: 'green', port: green.ports.eslPort }]);

    const call = simulator.placeCall({ destination: '1000', context: CONTEXT });
    await waitFor(async () => (await activeCalls(blue.ports)) === 1, { message: 'blue to take the call' });
    await waitUntilAnswered(call.uuid);
    await expect(blue.service.shutdown()).resolves.toEqual({ drained: 0, detachedAtDeadline: 1 });

    await waitFor(async () => (await activeCalls(green.ports)) === 1, { message: 'green to take the re-homed call' });
    expect(channelVariable(call.uuid, CALL_CONTROL_GROUP_VARIABLE)).toBe('green');
    expect(channelVariable(call.uuid, REHOME_TALLY_VARIABLE)).toBe('x');

    expect(simulator.killCall(call.uuid)).toBe(true);
    await expect(call.outcome).resolves.toMatchObject({ answered: true, hangupCause: 'NORMAL_CLEARING' });
    await waitFor(async () => (await activeCalls(green.ports)) === 0, { message: 'green to see the call end' });
  });
});

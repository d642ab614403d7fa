import type { CallControlService } from '../../runtime/call-control';
import { encodeRouteTable, renderCallControlDialplan, ROUTE_TABLE_DB_KEY, ROUTE_TABLE_DB_REALM } from '../../runtime/dialplan';
import { FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { DESK_VARIABLE, deskFor } from '../../examples/custom-call-flow/front-desk-flow';
import { startFrontDesk } from '../../examples/custom-call-flow/main';
import { recordingLogger } from '../call-control/recording-logger';
import { waitFor } from '../support/wait-for';

// examples/custom-call-flow: the reference call-control service running a flow of its own, behind a simulated media
// server whose dialplan is the one the media servers run.

const CONTEXT = 'public';
let simulator: FreeSwitchSimulator;
let service: CallControlService | undefined;

beforeEach(async () => {
  simulator = new FreeSwitchSimulator({ dialplanXml: renderCallControlDialplan({ context: CONTEXT }), playbackMs: 20 });
  await simulator.start();
});

afterEach(async () => {
  await service?.stop();
  service = undefined;
  await simulator.stop();
});

async function frontDeskGroup(): Promise<void> {
  const started = await startFrontDesk({ CALL_CONTROL_GROUP: 'blue', CALL_CONTROL_VERSION: '1.0.0', CALL_CONTROL_ESL_PORT: '0', CALL_CONTROL_HEALTH_PORT: '0', CALL_CONTROL_LISTEN_HOST: '127.0.0.1' }, { logger: recordingLogger().logger, writeMetrics: () => undefined });
  service = started.service;
  const table = encodeRouteTable({ groups: [{ id: 'blue', state: 'active', endpoints: [{ host: '127.0.0.1', port: started.ports.eslPort }] }] });
  expect(simulator.api(`db insert/${ROUTE_TABLE_DB_REALM}/${ROUTE_TABLE_DB_KEY}/${table}`)).toBe('+OK');
}

describe('examples/custom-call-flow', () => {
  it('greets the caller and rings the desk serving the dialled number', async () => {
    await frontDeskGroup();
    const outcome = await simulator.placeCall({ destination: '15550101234', context: CONTEXT, durationMs: 300 }).outcome;
    expect(outcome).toMatchObject({ answered: true, hangupCause: 'NORMAL_CLEARING' });
    const applications = outcome.applications.map(({ name, data }) => `${name} ${data}`);
    expect(applications).toEqual(expect.arrayContaining(['playback ivr/ivr-welcome.wav', 'bridge sofia/gateway/sales/15550101234']));
    expect(applications.indexOf('playback ivr/ivr-welcome.wav')).toBeLessThan(applications.indexOf('bridge sofia/gateway/sales/15550101234'));
    expect(outcome.variables[DESK_VARIABLE]).toBe('sofia/gateway/sales/15550101234');
  });

  it('tells the caller an unserved number is not in service and hangs up with UNALLOCATED_NUMBER', async () => {
    await frontDeskGroup();
    const outcome = await simulator.placeCall({ destination: '15559990000', context: CONTEXT, durationMs: 5_000 }).outcome;
    expect(outcome).toMatchObject({ answered: true, hangupCause: 'UNALLOCATED_NUMBER' });
    expect(outcome.variables[DESK_VARIABLE]).toBe('none');
    expect(outcome.applications.map(({ name }) => name)).not.toContain('bridge');
    expect(outcome.applications.map(({ name, data }) => `${name} ${data}`)).toContain('playback ivr/ivr-that_was_an_invalid_entry.wav');
    await waitFor(() => service?.status().activeCalls === 0, { message: 'the service to see the call end' });
  });

  it('picks the longest matching prefix', () => {
    const desks = { '1555': 'user/operator', '155502': 'user/support' };
    expect([deskFor('15550201', desks), deskFor('15551', desks), deskFor('1666', desks), deskFor(undefined, desks)]).toEqual(['user/support', 'user/operator', undefined, undefined]);
  });

  it('refuses a bad environment with one line naming the variable', async () => {
    await expect(startFrontDesk({ CALL_CONTROL_GROUP: 'Blue', CALL_CONTROL_VERSION: '1.0.0' })).rejects.toThrow(/^CALL_CONTROL_GROUP: must be a group id \(e\.g\. blue\)$/);
  });
});

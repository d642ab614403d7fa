import '../support/promise-with-resolvers';
import axios from 'axios';
import { mkdtempSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { MediaServerClient } from '../../runtime/media-server';
import { systemClock } from '../../runtime/shared/clock';
import { createFleetUpgradeSteps, type FleetUpgradeSteps } from '../../runtime/upgrade/steps/fleet-upgrade-steps';
import { parseFleetInventory, type FleetInventory } from '../../runtime/upgrade/inventory/fleet-inventory';
import { referenceCallControlCommand } from '../../runtime/upgrade/deployers/local-process-deployer';
import { createUpgradeTaskHandlers } from '../../runtime/upgrade/flow/upgrade-task-handlers';
import { FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { CALL_CONTEXT, SIMULATOR_PASSWORD, eslOptions, startMediaServer } from '../support/media-server-fixture';
import { runStateMachineLocally } from '../support/upgrade/state-machine-runner';
import { StateTable, startStateTable } from '../support/upgrade/state-table-fixture';

/**
 * The generated state machine run by aws-local-stepfunctions over the real task handlers, against the
 * FreeSWITCH simulator, real call-control processes and dynalite.
 */

const IMAGE = 'voiceplane/call-control';
const MEDIA_SERVER = 'west/ms-1';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function healthVersion(port: number): Promise<string> {
  return (await axios.get<{ version: string }>(`http://127.0.0.1:${port}/health`)).data.version;
}

describe('the upgrade state machine run locally over the real task handlers', () => {
  let simulator: FreeSwitchSimulator;
  let table: StateTable;
  let fleet: FleetUpgradeSteps;
  let inventory: FleetInventory;
  let ports: Record<'blue' | 'green', { eslPort: number; healthPort: number }>;

  beforeEach(async () => {
    simulator = await startMediaServer();
    table = await startStateTable();
    ports = { blue: { eslPort: await freePort(), healthPort: await freePort() }, green: { eslPort: await freePort(), healthPort: await freePort() } };
    const runDir = mkdtempSync(path.join(tmpdir(), 'voiceplane-sfn-'));
    inventory = parseFleetInventory({
      mediaServers: [
        {
          id: MEDIA_SERVER,
          esl: { host: '127.0.0.1', port: simulator.eslPort },
          eslPassword: { source: 'literal', value: SIMULATOR_PASSWORD },
          groups: (['blue', 'green'] as const).map((id) => ({ id, deployment: { kind: 'local', runDir, instances: [ports[id]] } })),
        },
      ],
    });
    // A version named "broken" exits at once: its deployment fails and must be rolled back.
    const localCommand = (release: { version: string }) =>
      release.version === 'broken' ? { executable: process.execPath, args: ['-e', 'process.exit(3)'] } : referenceCallControlCommand();
    fleet = createFleetUpgradeSteps({
      inventory,
      store: table.store(systemClock),
      env: process.env,
      keepConnectionsOpen: false,
      localCommand,
      settings: { drainSettleMs: 200, verifyRetryMs: 200, rollbackPollMs: 100, rollbackTimeoutMs: 30_000 },
    });
    for (const group of ['blue', 'green']) {
      const deployer = fleet.deployers(MEDIA_SERVER, group);
      const deploymentId = await deployer.start({ image: IMAGE, version: '1.0.0' });
      for (let check = await deployer.status(deploymentId); !check.complete; check = await deployer.status(deploymentId)) {
        if (check.failed) throw new Error(check.detail);
      }
    }
    const client = await MediaServerClient.connect(eslOptions(simulator));
    await client.setRoutes({
      groups: (['blue', 'green'] as const).map((id) => ({ id, endpoints: [{ host: '127.0.0.1', port: ports[id].eslPort }], state: 'active' as const })),
    });
    await client.close();
  });

  afterEach(async () => {
    await Promise.all(['blue', 'green'].map((group) => (fleet.deployers(MEDIA_SERVER, group) as unknown as { stopAll(): Promise<void> }).stopAll()));
    await fleet.close();
    await table.close();
    await simulator.stop();
  });

  let executions = 0;

  function run(input: Record<string, string | number | string[]>) {
    const handlers = createUpgradeTaskHandlers({ steps: fleet.steps, store: table.store(systemClock), inventory, clock: systemClock });
    // As in AWS: the context object carries the execution name, which becomes the upgrade id.
    return runStateMachineLocally(handlers, input, { executionName: `console-${process.pid}-${++executions}` }).result;
  }

  it('upgrades blue then green under a steady call load: every call completes, both groups end on the new version and routed', async () => {
    const calls = simulator.placeCalls({ count: 40, ratePerSecond: 20, destination: '15551234567', context: CALL_CONTEXT, durationMs: () => 1_000 + Math.floor(Math.random() * 1_000) });
    const result = await run({ image: IMAGE, version: '1.1.0', groups: ['blue', 'green'], mediaServers: 'all', maxDrainSeconds: 60, onDrainTimeout: 'wait', concurrency: 2 });
    expect(result).toEqual({ upgradeId: expect.any(String), anyFailed: false, results: [{ mediaServerId: MEDIA_SERVER, status: 'upgraded' }] });
    expect(await healthVersion(ports.blue.healthPort)).toBe('1.1.0');
    expect(await healthVersion(ports.green.healthPort)).toBe('1.1.0');
    const outcomes = await calls.outcomes();
    expect(outcomes.filter((outcome) => !outcome.answered || outcome.hangupCause !== 'NORMAL_CLEARING')).toEqual([]);
    const client = await MediaServerClient.connect(eslOptions(simulator));
    expect((await client.routes())?.groups.map((group) => group.state)).toEqual(['active', 'active']);
    await client.close();
  });

  it('rolls a failed deployment back and fails the execution, leaving the group on its old version and routed', async () => {
    await expect(run({ image: IMAGE, version: 'broken', groups: ['blue', 'green'], mediaServers: [MEDIA_SERVER], maxDrainSeconds: 60 })).rejects.toThrow(/one or more media servers failed; their groups were rolled back/);
    expect(await healthVersion(ports.blue.healthPort)).toBe('1.0.0');
    expect(await healthVersion(ports.green.healthPort)).toBe('1.0.0');
    const client = await MediaServerClient.connect(eslOptions(simulator));
    expect((await client.routes())?.groups.map((group) => group.state)).toEqual(['active', 'active']);
    await client.close();
  });

  async function routeTable() {
    const client = await MediaServerClient.connect(eslOptions(simulator));
    try {
      return await client.routes();
    } finally {
      await client.close();
    }
  }

  it('rejects an invalid request in the Plan task, naming the field, before touching anything', async () => {
    const routesBefore = await routeTable();
    const request = { image: IMAGE, version: '1.1.0', groups: ['blue'], mediaServers: 'all', onDrainTimeout: 'later', upgradeId: 'refused-in-plan' };
    await expect(run(request)).rejects.toThrow(/onDrainTimeout: must be wait, force or abort/);
    const store = table.store(systemClock);
    expect(await store.getUpgrade('refused-in-plan')).toBeUndefined();
    expect(await store.listGroups('refused-in-plan')).toEqual([]);
    expect(await routeTable()).toEqual(routesBefore);
    expect(await healthVersion(ports.blue.healthPort)).toBe('1.0.0');
  });

  it('refuses to reuse an upgrade id for another request, naming the id, and leaves the stored upgrade as it was', async () => {
    const original = { image: IMAGE, version: '1.1.0', groups: ['blue'], mediaServers: 'all', maxDrainSeconds: 60, upgradeId: 'reused-id' };
    await expect(run(original)).resolves.toMatchObject({ upgradeId: 'reused-id', anyFailed: false });
    const store = table.store(systemClock);
    const storedBefore = await store.getUpgrade('reused-id');
    const routesBefore = await routeTable();

    await expect(run({ ...original, version: '1.2.0' })).rejects.toThrow(/upgrade reused-id already exists with another request/);
    expect(await store.getUpgrade('reused-id')).toEqual(storedBefore);
    expect(await routeTable()).toEqual(routesBefore);
    expect(await healthVersion(ports.blue.healthPort)).toBe('1.1.0');
  });
});

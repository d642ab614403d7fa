import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { MediaServerClient } from '../../runtime/media-server';
import { reservePorts } from '../../runtime/net/free-port';
import { parseFleetInventory, type FleetInventory } from '../../runtime/upgrade/inventory/fleet-inventory';
import { startSimulatedMediaServers } from '../../examples/fleet-inventory/simulated-media-servers';
import { spawnCli } from '../support/cli-process';

// examples/fleet-inventory: the inventory parses with the production schema, and `voiceplane upgrade --plan` of it
// reads simulated media servers and changes nothing.

const EXAMPLE = path.join(__dirname, '../../examples/fleet-inventory/fleet.json');
const PASSWORD = 'example-fleet';

let dir: string;
let fleet: { stop(): Promise<void> } | undefined;

beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-fleet-example-'))));
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function routeTables(inventory: FleetInventory): Promise<unknown[]> {
  return Promise.all(
    inventory.mediaServers.map(async ({ esl }) => {
      const client = await MediaServerClient.connect({ host: esl.host, port: esl.port, password: PASSWORD });
      try {
        return await client.routes();
      } finally {
        await client.close();
      }
    }),
  );
}

/** The example with each media server's event socket moved to a free port (the suite shares the machine). */
async function onFreePorts(inventory: FleetInventory): Promise<FleetInventory> {
  const ports = await reservePorts(inventory.mediaServers.length);
  return { ...inventory, mediaServers: inventory.mediaServers.map((mediaServer, index) => ({ ...mediaServer, esl: { ...mediaServer.esl, port: ports[index] } })) };
}

describe('examples/fleet-inventory', () => {
  it('is a valid fleet inventory: two media servers with groups blue and green, local processes, one allowed repository', () => {
    const inventory = parseFleetInventory(JSON.parse(readFileSync(EXAMPLE, 'utf8')));
    expect(inventory.allowedImageRepositories).toEqual(['voiceplane/call-control']);
    expect(inventory.mediaServers.map((mediaServer) => [mediaServer.id, mediaServer.groups.map((group) => `${group.id}:${group.deployment.kind}`)])).toEqual([
      ['lab/ms-1', ['blue:local', 'green:local']],
      ['lab/ms-2', ['blue:local', 'green:local']],
    ]);
  });

  it('voiceplane upgrade --plan --inventory shows both media servers, their routes and calls, and changes nothing', async () => {
    const inventory = await onFreePorts(parseFleetInventory(JSON.parse(readFileSync(EXAMPLE, 'utf8'))));
    const file = path.join(dir, 'fleet.json');
    writeFileSync(file, JSON.stringify(inventory));
    fleet = await startSimulatedMediaServers(inventory, PASSWORD);
    const routesBefore = await routeTables(inventory);

    const plan = spawnCli(
      ['upgrade', '--plan', '--inventory', file, '--media-server', 'all', '--group', 'blue', '--group', 'green', '--image', 'voiceplane/call-control', '--version', '1.5.0', '--upgrade-id', 'example-plan'],
      { FLEET_ESL_PASSWORD: PASSWORD },
    );
    expect(await plan.exitWithin(60_000)).toBe(0);
    const lines = plan.stdout().trimEnd().split('\n');
    expect(lines[0]).toBe('upgrade plan example-plan: voiceplane/call-control:1.5.0 on 2 media server(s), groups blue then green, at most 5 at once');
    for (const mediaServer of ['lab/ms-1', 'lab/ms-2']) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${mediaServer} +blue then green +blue active, green active +blue 0, green 0$`)));
    }
    expect(lines[lines.length - 1]).toBe('nothing was changed (run without --plan to upgrade)');
    expect(await routeTables(inventory)).toEqual(routesBefore);
  });

  it('an image outside allowedImageRepositories is refused before anything is read', async () => {
    const result = spawnCli(['upgrade', '--plan', '--inventory', EXAMPLE, '--media-server', 'all', '--group', 'blue', '--image', 'example.com/other/call-control', '--version', '1.5.0'], {});
    expect(await result.exitWithin(60_000)).toBe(2);
    expect(result.stderr()).toContain('is not an allowed image repository');
  });
});

import { writeFileSync } from 'fs';
import * as path from 'path';
import { UsageError } from '../../runtime/commands/cli-error';
import { runUpgradeCommand, type UpgradeOptionValues } from '../../runtime/commands/upgrade-command';
import { MediaServerClient } from '../../runtime/media-server';
import { systemClock } from '../../runtime/shared/clock';
import { eslOptions } from '../support/media-server-fixture';
import { IMAGE, MEDIA_SERVER_ID, startLocalFleet, type LocalFleet } from '../support/upgrade/local-fleet-fixture';
import { startStateTable, type StateTable } from '../support/upgrade/state-table-fixture';
import { groupHealth } from '../support/upgrade/upgrade-harness';

describe('voiceplane upgrade (command module)', () => {
  let fleet: LocalFleet;
  let table: StateTable;
  let inventoryFile: string;

  beforeAll(async () => {
    [fleet, table] = await Promise.all([startLocalFleet(), startStateTable()]);
    inventoryFile = path.join(fleet.runDir, 'inventory.json');
    writeFileSync(inventoryFile, JSON.stringify(fleet.inventory));
  });
  afterAll(async () => {
    await Promise.all([fleet?.stop(), table?.close()]);
  });

  async function upgrade(values: UpgradeOptionValues) {
    const lines: string[] = [];
    const code = await runUpgradeCommand(
      { inventory: inventoryFile, 'media-server': [MEDIA_SERVER_ID], image: IMAGE, 'dynamodb-endpoint': table.endpoint, table: table.tableName, ...values },
      { stdout: { line: (text) => lines.push(text) }, env: process.env, isTty: false, pollMs: 100 },
    );
    return { code, lines };
  }

  it.each<[string, UpgradeOptionValues, string]>([
    ['no inventory', { inventory: undefined }, '--inventory: required (a fleet inventory JSON file)'],
    ['a missing inventory file', { inventory: '/nonexistent/inventory.json' }, '--inventory: cannot read /nonexistent/inventory.json: ENOENT'],
    ['no version', { group: ['blue'] }, '--version: required'],
    ['a tagged image', { group: ['blue'], version: '2.0.0', image: `${IMAGE}:2.0.0` }, '--image: "voiceplane/call-control:2.0.0" must not include a tag'],
    ['no group', { version: '2.0.0' }, '--group: must name at least one group'],
    ['a bad group id', { group: ['Blue'], version: '2.0.0' }, "--group [0]: 'Blue' must be lowercase"],
    ['no media server', { 'media-server': undefined, group: ['blue'], version: '2.0.0' }, '--media-server: must name at least one media server'],
    ['an unknown media server', { 'media-server': ['west/ms-9'], group: ['blue'], version: '2.0.0' }, 'upgrade plan: unknown media server "west/ms-9"'],
    ['an unknown group', { group: ['red'], version: '2.0.0' }, 'upgrade plan: media server local/ms-1 has no group "red"'],
    ['a bad drain limit', { group: ['blue'], version: '2.0.0', 'max-drain-seconds': '10m' }, '--max-drain-seconds: must be a whole number of seconds in 1..86400 (got "10m")'],
    ['a bad policy', { group: ['blue'], version: '2.0.0', 'on-timeout': 'kill' }, '--on-timeout: must be wait, force or abort (got "kill")'],
    ['a bad concurrency', { group: ['blue'], version: '2.0.0', concurrency: '0' }, '--concurrency: must be a whole number of media servers in 1..1000 (got 0)'],
    ['an endpoint without a table', { group: ['blue'], version: '2.0.0', table: undefined }, '--table: required with --dynamodb-endpoint'],
  ])('rejects %s with a usage error and changes nothing', async (_, values, expected) => {
    const routesBefore = await fleet.routes();
    const failure = upgrade({ 'upgrade-id': 'bad-input', ...values });
    await expect(failure).rejects.toBeInstanceOf(UsageError);
    await expect(failure).rejects.toThrow(expected);
    expect(await fleet.routes()).toEqual(routesBefore);
    expect(await table.store(systemClock).getUpgrade('bad-input')).toBeUndefined();
  });

  it('names every bad option in one line', async () => {
    await expect(upgrade({ group: ['blue', 'blue'], 'on-timeout': 'x', concurrency: '-1' })).rejects.toThrow(
      /^--version: required; --group \[1\]: "blue" is listed twice; --on-timeout: must be wait, force or abort \(got "x"\); --concurrency: must be a whole number of media servers in 1\.\.1000 \(got "-1"\)$/,
    );
  });

  it('upgrades with one line per change and a summary table', async () => {
    const { code, lines } = await upgrade({ group: ['blue'], version: '1.1.0', 'upgrade-id': 'cli-plain' });
    expect(code).toBe(0);
    expect(lines[0]).toBe('upgrade cli-plain: voiceplane/call-control:1.1.0 on 1 media server(s), groups blue, at most 5 at once');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ +\d+\.\ds  local\/ms-1 blue  drain$/),
        expect.stringMatching(/local\/ms-1 blue  draining, 0 calls left$/),
        expect.stringMatching(/local\/ms-1 blue  restored$/),
      ]),
    );
    expect(lines.slice(-3)).toEqual([
      expect.stringMatching(/^MEDIA SERVER +GROUP +RESULT +DRAIN +FORCED +ERROR$/),
      expect.stringMatching(/^local\/ms-1 +blue +restored +\d+\.\ds +0$/),
      expect.stringMatching(/^upgrade cli-plain succeeded in \d+\.\ds; longest drain \d+\.\ds$/),
    ]);
    expect(await groupHealth(fleet, 'blue')).toEqual([expect.objectContaining({ version: '1.1.0' })]);
  });

  it('--json: a plan line, progress lines, the summary as one object on the last line; a rerun resumes, a changed rerun is refused', async () => {
    const { code, lines } = await upgrade({ group: ['green'], version: '1.1.0', json: true, 'upgrade-id': 'cli-json' });
    expect(code).toBe(0);
    const objects = lines.map((line) => JSON.parse(line));
    expect(objects[0]).toEqual({
      type: 'plan',
      upgradeId: 'cli-json',
      image: IMAGE,
      version: '1.1.0',
      concurrency: 5,
      mediaServers: [{ mediaServerId: MEDIA_SERVER_ID, groups: ['green'] }],
    });
    expect(objects.slice(1, -1).every((object) => object.type === 'progress' && object.mediaServerId === MEDIA_SERVER_ID && typeof object.elapsedMs === 'number')).toBe(true);
    expect(objects[objects.length - 1]).toMatchObject({
      type: 'summary',
      upgradeId: 'cli-json',
      status: 'succeeded',
      mediaServers: [{ mediaServerId: MEDIA_SERVER_ID, status: 'upgraded' }],
    });

    const again = await upgrade({ group: ['green'], version: '1.1.0', json: true, 'upgrade-id': 'cli-json' });
    expect(again.code).toBe(0);
    expect(again.lines.filter((line) => JSON.parse(line).step === 'drain')).toEqual([]);
    await expect(upgrade({ group: ['green'], version: '1.1.0', 'upgrade-id': 'cli-json', 'max-drain-seconds': '60' })).rejects.toThrow(
      /^upgrade cli-json already exists with another request/,
    );
  });

  it('exits 1 with the reason when a group cannot be upgraded', async () => {
    await withClient((client) => client.drain('green'));
    try {
      const { code, lines } = await upgrade({ group: ['blue'], version: '1.2.0', json: true, 'upgrade-id': 'cli-refused' });
      expect(code).toBe(1);
      expect(JSON.parse(lines[lines.length - 1])).toMatchObject({
        status: 'failed',
        mediaServers: [
          {
            status: 'failed',
            groups: [
              {
                groupId: 'blue',
                phase: 'failed',
                error: { code: 'PreflightFailed', message: 'group blue of local/ms-1: no other active group: draining it would leave no routable group' },
              },
            ],
          },
        ],
      });
    } finally {
      await withClient((client) => client.restore('green'));
    }
  });

  async function withClient<T>(work: (client: MediaServerClient) => Promise<T>): Promise<T> {
    const client = await MediaServerClient.connect(eslOptions(fleet.simulator));
    try {
      return await work(client);
    } finally {
      await client.close();
    }
  }
});

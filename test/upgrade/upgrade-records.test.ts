import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { runCli } from '../support/run-cli';
import { DRAIN_CURVE_COLOUR } from '../../runtime/upgrade/report/drain-chart';
import { findChromium, screenshot } from '../support/chromium';
import { CALL_CONTEXT } from '../support/media-server-fixture';
import { readPng, type PngImage } from '../support/png-image';
import { useFleetAndTable } from '../support/upgrade/fleet-and-table';
import { IMAGE, MEDIA_SERVER_ID } from '../support/upgrade/local-fleet-fixture';
import { upgradeFleet } from '../support/upgrade/upgrade-harness';
import { waitFor } from '../support/wait-for';

// `voiceplane upgrade --plan|status|history|report` against the state of real upgrades (simulated media server,
// real call-control processes, dynalite).

const dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-records-'));
const shared = useFleetAndTable();

const cli = (args: readonly string[]) => runCli(args, process.env);

const state = () => ['--dynamodb-endpoint', shared.table.endpoint, '--table', shared.table.tableName];

/** Calls of 1.5 s arriving every 200 ms until stopped, so each group has calls when its drain begins. */
function steadyCalls(): { stop(): Promise<void> } {
  const { simulator } = shared.fleet;
  const calls: Array<{ outcome: Promise<unknown> }> = [];
  const timer = setInterval(() => calls.push(simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: 1_500 })), 200);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(calls.map((call) => call.outcome));
    },
  };
}

/** Rows of the screenshot holding the drain curve's colour, grouped into bands (one per chart), with the curve's ends. */
function curveBands(image: PngImage): Array<{ top: number; pixels: number; startY: number; endY: number }> {
  const target = [1, 3, 5].map((offset) => parseInt(DRAIN_CURVE_COLOUR.slice(offset, offset + 2), 16));
  const bands: Array<{ top: number; bottom: number; pixels: number; first: { x: number; y: number }; last: { x: number; y: number } }> = [];
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const pixel = image.pixel(x, y);
      if (!pixel.every((value, channel) => Math.abs(value - target[channel]) < 24)) continue;
      let band = bands[bands.length - 1];
      if (!band || y - band.bottom > 40) bands.push((band = { top: y, bottom: y, pixels: 0, first: { x, y }, last: { x, y } }));
      band.bottom = y;
      band.pixels++;
      if (x < band.first.x) band.first = { x, y };
      if (x >= band.last.x) band.last = { x, y };
    }
  }
  return bands.map((band) => ({ top: band.top, pixels: band.pixels, startY: band.first.y, endY: band.last.y }));
}

describe('upgrade plan, status, history and report', () => {
  let upgradeId: string;

  beforeAll(async () => {
    const calls = steadyCalls();
    await waitFor(() => shared.fleet.simulator.channels().length >= 3, { message: 'calls in progress' });
    const run = await upgradeFleet(shared.fleet, shared.table, { upgradeId: 'records-1', pollMs: 250, wakeOnCallEnd: true });
    await calls.stop();
    expect(run.summary.status).toBe('succeeded');
    upgradeId = 'records-1';
  });

  it('--plan shows the order, the drain policy and the calls now on each group, and changes nothing', async () => {
    const inventory = path.join(dir, 'inventory.json');
    writeFileSync(inventory, JSON.stringify(shared.fleet.inventory));
    const routesBefore = await shared.fleet.routes();
    const held = [0, 1].map(() => shared.fleet.simulator.placeCall({ destination: '15550100000', context: CALL_CONTEXT, durationMs: 30_000 }));
    await waitFor(() => held.every((call) => shared.fleet.simulator.channels().some((channel) => channel.uuid === call.uuid && channel.variables.vp_cc_group === 'blue')), { message: 'two calls on blue' });
    const args = ['upgrade', '--inventory', inventory, '--media-server', MEDIA_SERVER_ID, '--group', 'blue', '--group', 'green', '--image', IMAGE, '--version', '9.9.9', '--upgrade-id', 'planned', '--max-drain-seconds', '600', '--on-timeout', 'force', ...state()];
    const plan = await cli([...args, '--plan']);
    expect(plan.stderr).toEqual([]);
    expect(plan.code).toBe(0);
    expect(plan.stdout[0]).toBe(`upgrade plan planned: ${IMAGE}:9.9.9 on 1 media server(s), groups blue then green, at most 5 at once`);
    expect(plan.stdout[1]).toBe('drain policy: wait up to 600 s for each group\'s calls to end, then hang up the calls still on the group');
    expect(plan.stdout[3]).toMatch(new RegExp(`^${MEDIA_SERVER_ID} +blue then green +blue active, green active +blue 2, green 0$`));
    expect(plan.stdout[plan.stdout.length - 1]).toBe('nothing was changed (run without --plan to upgrade)');
    const json = JSON.parse((await cli([...args, '--plan', '--json'])).stdout[0]);
    expect(json).toMatchObject({ type: 'plan', drainPolicy: { maxDrainSeconds: 600, onDrainTimeout: 'force' }, mediaServers: [{ mediaServerId: MEDIA_SERVER_ID, calls: { blue: 2, green: 0 } }] });
    held.forEach((call) => shared.fleet.simulator.killCall(call.uuid));
    expect(await shared.fleet.routes()).toEqual(routesBefore);
    expect((await cli(['upgrade', 'status', '--upgrade-id', 'planned', ...state()])).stderr).toEqual(['voiceplane: no upgrade "planned" in the state table']);
  });

  it('status: each media server and group with its phase, drain time and forced calls', async () => {
    const status = await cli(['upgrade', 'status', '--upgrade-id', upgradeId, ...state()]);
    expect(status.code).toBe(0);
    expect(status.stdout[0]).toMatch(new RegExp(`^upgrade records-1: ${IMAGE}:1\\.1\\.0, started \\d{4}-`));
    expect(status.stdout.slice(1)).toEqual([
      expect.stringMatching(/^MEDIA SERVER +GROUP +PHASE +DRAIN +FORCED +FAILURE$/),
      expect.stringMatching(new RegExp(`^${MEDIA_SERVER_ID} +blue +restored +\\d+\\.\\ds +0$`)),
      expect.stringMatching(new RegExp(`^${MEDIA_SERVER_ID} +green +restored +\\d+\\.\\ds +0$`)),
    ]);
    const json = JSON.parse((await cli(['upgrade', 'status', '--upgrade-id', upgradeId, '--json', ...state()])).stdout[0]);
    expect(json.groups.map((group: { groupId: string; phase: string }) => [group.groupId, group.phase])).toEqual([
      ['blue', 'restored'],
      ['green', 'restored'],
    ]);
  });

  it('history: the most recent upgrades first', async () => {
    const second = await upgradeFleet(shared.fleet, shared.table, { upgradeId: 'records-2', request: { version: '1.2.0', groups: ['blue'] }, pollMs: 250 });
    expect(second.summary.status).toBe('succeeded');
    const history = await cli(['upgrade', 'history', ...state()]);
    expect(history.stdout).toEqual([
      expect.stringMatching(/^UPGRADE +STARTED +RELEASE +GROUPS$/),
      expect.stringMatching(new RegExp(`^records-2 +\\S+ +${IMAGE}:1\\.2\\.0 +1 restored$`)),
      expect.stringMatching(new RegExp(`^records-1 +\\S+ +${IMAGE}:1\\.1\\.0 +2 restored$`)),
    ]);
    expect(JSON.parse((await cli(['upgrade', 'history', '--limit', '1', '--json', ...state()])).stdout[0]).upgrades.map((upgrade: { upgradeId: string }) => upgrade.upgradeId)).toEqual(['records-2']);
  });

  it('status of an upgrade whose stored request is not JSON: one line naming the field, exit 1', async () => {
    await shared.table.client.send(new PutCommand({ TableName: shared.table.tableName, Item: { pk: 'upgrade#garbled', sk: 'upgrade', upgradeId: 'garbled', request: '{"image":', createdAt: 1 } }));
    const status = await cli(['upgrade', 'status', '--upgrade-id', 'garbled', ...state()]);
    expect(status.code).toBe(1);
    expect(status.stdout).toEqual([]);
    expect(status.stderr).toEqual([expect.stringMatching(/^voiceplane: upgrade state table: upgrade garbled is malformed: request: is not JSON text$/)]);
  });

  it('report: one self-contained HTML page', async () => {
    const out = path.join(dir, 'report.html');
    expect(await cli(['upgrade', 'report', '--upgrade-id', upgradeId, '--out', out, ...state()])).toEqual({ code: 0, stdout: [out], stderr: [] });
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<(script|link|img)\b|src=|href=/);
    expect(html).toContain(`Media server ${MEDIA_SERVER_ID}`);
    expect(html).toMatch(/route table drained/);
  });

  const chromium = findChromium();
  (chromium ? it : it.skip)('report: its screenshot in Chromium shows a falling drain curve for each group', async () => {
    const out = path.join(dir, 'report-to-render.html');
    expect((await cli(['upgrade', 'report', '--upgrade-id', upgradeId, '--out', out, ...state()])).code).toBe(0);
    const png = path.join(dir, 'report.png');
    await screenshot(chromium!, out, png, 900, 4_000);
    const bands = curveBands(readPng(png));
    expect(bands).toHaveLength(2);
    for (const band of bands) {
      expect(band.pixels).toBeGreaterThan(100);
      // Calls left fall: the curve starts higher on the page than it ends (0 calls, on the axis).
      expect(band.startY).toBeLessThan(band.endY);
    }
  });

  it.each([
    [['upgrade', 'status'], 2, 'voiceplane: --upgrade-id: required'],
    [['upgrade', 'report', '--upgrade-id', 'x', '--out', 'report.png'], 2, 'voiceplane: --out: must name an .html file'],
    [['upgrade', 'history', '--limit', '0'], 2, 'voiceplane: --limit: must be a whole number in 1..1000'],
    [['upgrade', 'rollback'], 2, "voiceplane: upgrade: unknown command 'rollback' (expected status, history or report, or the upgrade's options)"],
  ])('refuses %j in one line (exit %i)', async (args, code, message) => {
    expect(await cli([...args, ...state()])).toEqual({ code, stdout: [], stderr: [message] });
  });
});

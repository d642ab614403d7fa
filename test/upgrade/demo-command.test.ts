import { execFile } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { runCli } from '../support/run-cli';
import { runDemoCommand, type DemoSettings } from '../../runtime/commands/demo-command';
import { describeWithFreeSwitch, freeSwitchBinaryOrSkip } from '../support/real-freeswitch';

const VOICEPLANE = path.join(__dirname, '../../bin/voiceplane.js');

describe('voiceplane demo (command module, shortened calls)', () => {
  it('--json: progress lines, then one summary object on the last line with no call dropped or refused', async () => {
    const lines: string[] = [];
    const code = await runDemoCommand(
      { json: true },
      { stdout: { line: (text) => lines.push(text) }, env: process.env, isTty: false, settings: { minCallMs: 500, maxCallMs: 1_500, warmUpMs: 1_000 } },
    );

    const objects = lines.map((line) => JSON.parse(line));
    const summary = objects[objects.length - 1];
    expect(summary).toMatchObject({ type: 'summary', status: 'succeeded', dropped: 0, refused: 0, passed: true });
    // The simulator stays the default even where a real FreeSWITCH is installed.
    expect(summary.mediaServer).toBe('simulated FreeSWITCH');
    expect(summary.placed).toBeGreaterThan(20);
    expect(summary.completed).toBe(summary.placed);
    expect(summary.mediaServers[0].groups.map((group: { groupId: string; phase: string }) => `${group.groupId} ${group.phase}`)).toEqual(['blue restored', 'green restored']);
    expect(objects.slice(0, -1).every((object) => object.type === 'progress')).toBe(true);
    expect(objects.some((object) => object.step === 'checkDrain' && object.remainingCalls > 0)).toBe(true);
    expect(code).toBe(0);
  });
});

/** The canary demo's last line, and the upgrade's groups as `id phase error`. */
async function canaryDemo(values: { freeswitch?: string }, settings: Partial<DemoSettings>) {
  const lines: string[] = [];
  const code = await runDemoCommand({ json: true, canary: true, ...values }, { stdout: { line: (text) => lines.push(text) }, env: process.env, isTty: false, settings });
  const summary = JSON.parse(lines[lines.length - 1]);
  const groups = summary.mediaServers[0].groups.map((group: { groupId: string; phase: string; error?: { code: string } }) => `${group.groupId} ${group.phase} ${group.error?.code ?? '-'}`);
  return { code, summary, groups };
}

describe('voiceplane demo --canary (command module, simulator)', () => {
  it('catches the bad version on its 5 % share, rolls it back, leaves green alone; only the calls it failed did not complete', async () => {
    const { code, summary, groups } = await canaryDemo({}, { minCallMs: 2_500, maxCallMs: 3_500, warmUpMs: 1_000 });

    expect(groups).toEqual(['blue rolled-back CanaryFailed', 'green pending -']);
    expect(summary).toMatchObject({ type: 'summary', status: 'failed', passed: true });
    expect(summary.canary.failedCalls).toBeGreaterThan(0);
    expect(summary.canary.canaryCalls).toBeGreaterThanOrEqual(10);
    // At 20 calls/s, blue's 5 % share is about 1 call/s: far fewer than a share of everything.
    expect(summary.canary.canaryCalls).toBeLessThan(summary.placed * 0.2);
    expect(summary.canary.detectionMs).toBeGreaterThan(0);
    expect(summary.placed - summary.completed).toBe(summary.canary.failedCalls);
    expect(code).toBe(0);
  }, 120_000);
});

describe('voiceplane demo (the installed command, defaults)', () => {
  it('--json run from outside the repository ends with a summary line: numbers placed, completed, dropped 0, refused 0', async () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'voiceplane-demo-cwd-'));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [VOICEPLANE, 'demo', '--json'], { cwd: elsewhere, timeout: 110_000, maxBuffer: 64 * 1024 * 1024 });
      const lines = stdout.trim().split('\n');
      const summary = JSON.parse(lines[lines.length - 1]);
      expect(summary).toMatchObject({
        type: 'summary',
        placed: expect.any(Number),
        completed: expect.any(Number),
        dropped: 0,
        refused: 0,
      });
      expect(summary.placed).toBeGreaterThan(0);
      expect(summary.completed).toBe(summary.placed);
      expect(lines.slice(0, -1).map((line) => JSON.parse(line).type)).toEqual(Array(lines.length - 1).fill('progress'));
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describeWithFreeSwitch('voiceplane demo --freeswitch (the real FreeSWITCH, SIP calls)', () => {
  it('upgrades blue, then green, under SIP calls bridged to a far end, with no call dropped or refused', async () => {
    const binary = freeSwitchBinaryOrSkip()!;
    const lines: string[] = [];
    const code = await runDemoCommand(
      { json: true, freeswitch: binary },
      {
        stdout: { line: (text) => lines.push(text) },
        env: process.env,
        isTty: false,
        settings: { callsPerSecond: 5, minCallMs: 500, maxCallMs: 1_500, warmUpMs: 1_000 },
      },
    );

    const summary = JSON.parse(lines[lines.length - 1]);
    expect(summary).toMatchObject({ type: 'summary', status: 'succeeded', dropped: 0, refused: 0, passed: true });
    expect(summary.mediaServer).toMatch(/^real FreeSWITCH \d+\.\d+\.\d+ \(/);
    expect(summary.mediaServer).toContain(`(${path.resolve(binary)})`);
    expect(summary.placed).toBeGreaterThan(0);
    expect(summary.completed).toBe(summary.placed);
    expect(code).toBe(0);
  });
});

describeWithFreeSwitch('voiceplane demo --canary --freeswitch (the real FreeSWITCH, SIP calls)', () => {
  it('catches the bad version and rolls it back with no other call dropped or refused', async () => {
    // Judged on 4 calls, so the 5 % share of 10 calls/s is caught in seconds rather than the demo's default 10 calls.
    const canary = { steps: [5, 25], hold: { seconds: 60 }, thresholds: { minCalls: 4 } };
    const { code, summary, groups } = await canaryDemo({ freeswitch: freeSwitchBinaryOrSkip()! }, { callsPerSecond: 10, minCallMs: 2_500, maxCallMs: 3_500, warmUpMs: 1_000, faultyPercent: 50, canary });

    expect(groups).toEqual(['blue rolled-back CanaryFailed', 'green pending -']);
    expect(summary.canary.failedCalls).toBeGreaterThan(0);
    expect(summary.dropped + summary.refused).toBe(summary.canary.failedCalls);
    expect(code).toBe(0);
  }, 240_000);
});

describe('voiceplane demo --freeswitch with no usable binary', () => {
  it.each([
    ['a missing file', '/nonexistent'],
    ['a directory', tmpdir()],
  ])('%s is a usage error: exit 2, one line on stderr naming the flag, nothing started', async (_, binary) => {
    const { code, stdout, stderr } = await runCli(['demo', '--freeswitch', binary], process.env);

    expect(code).toBe(2);
    expect(stderr).toEqual([`voiceplane: --freeswitch: no executable FreeSWITCH binary at ${JSON.stringify(binary)}`]);
    expect(stdout).toEqual([]);
  });
});

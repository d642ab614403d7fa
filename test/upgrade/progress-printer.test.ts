import { progressPrinter } from '../../runtime/upgrade/progress/progress-printer';
import type { UpgradeProgress, UpgradeSummary } from '../../runtime/upgrade/progress/upgrade-progress';

const event = (fields: Partial<UpgradeProgress>): UpgradeProgress => ({ mediaServerId: 'west/ms-1', groupId: 'blue', step: 'drain', elapsedMs: 1_000, ...fields });
const summary: UpgradeSummary = {
  upgradeId: 'u-1',
  status: 'failed',
  elapsedMs: 65_000,
  maxDrainSeconds: 42,
  mediaServers: [
    { mediaServerId: 'west/ms-1', status: 'upgraded', elapsedMs: 60_000, groups: [{ groupId: 'blue', phase: 'restored', drainSeconds: 42, forcedCalls: 0 }] },
    {
      mediaServerId: 'west/ms-2',
      status: 'failed',
      elapsedMs: 5_000,
      groups: [{ groupId: 'blue', phase: 'rolled-back', forcedCalls: 2, error: { code: 'VerificationFailed', message: 'not healthy' } }],
    },
  ],
};

function printed(mode: 'tty' | 'plain' | 'json', events: UpgradeProgress[]) {
  const lines: string[] = [];
  let now = 0;
  const printer = progressPrinter({ line: (text) => lines.push(text) }, mode, { now: () => now });
  for (const next of events) {
    printer.progress(next);
    now += 150;
  }
  printer.summary(summary);
  return lines;
}

describe('progress printer', () => {
  const events = [
    event({ step: 'drain' }),
    event({ step: 'checkDrain', remainingCalls: 12, elapsedMs: 2_000 }),
    event({ step: 'checkDrain', remainingCalls: 12, elapsedMs: 3_000 }),
    event({ mediaServerId: 'west/ms-2', step: 'checkDrain', remainingCalls: 3, timedOut: true, elapsedMs: 400_000 }),
    event({ step: 'done', phase: 'restored', elapsedMs: 9_000 }),
  ];

  it('plain: one line per change, then the summary table', () => {
    expect(printed('plain', events)).toEqual([
      '   1.0s  west/ms-1 blue  drain',
      '   2.0s  west/ms-1 blue  draining, 12 calls left',
      ' 400.0s  west/ms-2 blue  draining (past max drain), 3 calls left',
      '   9.0s  west/ms-1 blue  restored',
      'MEDIA SERVER  GROUP  RESULT       DRAIN  FORCED  ERROR',
      'west/ms-1     blue   restored     42.0s  0',
      'west/ms-2     blue   rolled-back  -      2       VerificationFailed: not healthy',
      'upgrade u-1 failed in 65.0s; longest drain 42.0s',
    ]);
  });

  it('tty: one row per media server, redrawn in place', () => {
    const lines = printed('tty', events);
    expect(lines[0]).toBe('\r\x1b[2KMEDIA SERVER  GROUP  STEP   CALLS  ELAPSED');
    expect(lines[2]).toBe('\x1b[2A\r\x1b[2KMEDIA SERVER  GROUP  STEP      CALLS  ELAPSED');
    const lastFrame = lines.slice(-7, -4);
    expect(lastFrame).toEqual([
      '\x1b[3A\r\x1b[2KMEDIA SERVER  GROUP  STEP                       CALLS  ELAPSED',
      '\r\x1b[2Kwest/ms-1     blue   restored                          9.0s',
      '\r\x1b[2Kwest/ms-2     blue   draining (past max drain)  3      400.0s',
    ]);
  });

  it('json: every event and the summary as JSON lines', () => {
    const lines = printed('json', events).map((line) => JSON.parse(line));
    expect(lines).toHaveLength(events.length + 1);
    expect(lines[1]).toEqual({ type: 'progress', ...events[1] });
    expect(lines[lines.length - 1]).toEqual({ type: 'summary', ...summary });
  });
});

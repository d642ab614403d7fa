import type { Output } from '../../commands/output';
import type { Clock } from '../../shared/clock';
import { ProgressBoard, ProgressLog, summaryLines } from './progress-view';
import type { UpgradeProgress, UpgradeSummary } from './upgrade-progress';

/** `tty`: a table redrawn in place; `plain`: a line per change; `json`: every event as a JSON line. */
export type ProgressMode = 'tty' | 'plain' | 'json';

export interface ProgressPrinter {
  progress(event: UpgradeProgress): void;
  /** Ends the live display and prints the summary (`json`: one object on one line, with `extra` fields merged in). */
  summary(summary: UpgradeSummary, extra?: Readonly<Record<string, unknown>>): void;
}

/** A terminal is redrawn at most this often; the last state is always drawn before the summary. */
const REDRAW_INTERVAL_MS = 100;

const CURSOR_UP = (lines: number) => `\x1b[${lines}A`;
const CLEAR_LINE = '\r\x1b[2K';

export function progressPrinter(output: Output, mode: ProgressMode, clock: Clock): ProgressPrinter {
  if (mode === 'json') {
    return {
      progress: (event) => output.line(JSON.stringify({ type: 'progress', ...event })),
      summary: (summary, extra) => output.line(JSON.stringify({ type: 'summary', ...summary, ...extra })),
    };
  }
  if (mode === 'plain') {
    const log = new ProgressLog();
    return {
      progress: (event) => {
        const line = log.line(event);
        if (line !== undefined) output.line(line);
      },
      summary: (summary) => summaryLines(summary).forEach((line) => output.line(line)),
    };
  }
  const board = new ProgressBoard();
  let drawn = 0;
  let drawnAt = -Infinity;
  const draw = (): void => {
    const lines = board.lines();
    lines.forEach((line, index) => output.line(`${index === 0 && drawn > 0 ? CURSOR_UP(drawn) : ''}${CLEAR_LINE}${line}`));
    drawn = lines.length;
    drawnAt = clock.now();
  };
  return {
    progress: (event) => {
      board.update(event);
      if (clock.now() - drawnAt >= REDRAW_INTERVAL_MS || event.step === 'done') draw();
    },
    summary: (summary) => {
      if (drawn > 0) draw();
      summaryLines(summary).forEach((line) => output.line(line));
    },
  };
}

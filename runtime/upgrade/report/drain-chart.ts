import type { AuditEntry } from '../state/upgrade-records';
import { escapeMarkup, svgNumber } from '../../shared/markup';

/** Calls left on a group at a time after its drain began. */
export interface DrainSample {
  readonly elapsedSeconds: number;
  readonly remaining: number;
}

/** The drain counts of one group's audit trail, in order. */
export function drainSamples(audit: readonly AuditEntry[]): DrainSample[] {
  return audit.flatMap((entry) => (entry.event.type === 'drain-count' ? [{ elapsedSeconds: entry.event.elapsedSeconds, remaining: entry.event.remaining }] : []));
}

const WIDTH = 560;
const HEIGHT = 200;
const MARGIN = { left: 44, right: 12, top: 12, bottom: 30 };
/** The curve's colour; the report's test looks for it in a screenshot. */
export const DRAIN_CURVE_COLOUR = '#1f6fd1';

/** A step curve of calls left over time (a count holds until the next sample), with labelled axes. */
export function renderDrainChart(samples: readonly DrainSample[], title: string): string {
  if (samples.length === 0) return `<p class="empty">${escapeMarkup(title)}: no drain samples (the group had no calls to wait for, or its drain was not reached).</p>`;
  const maxSeconds = Math.max(1, ...samples.map((sample) => sample.elapsedSeconds));
  const maxCalls = Math.max(1, ...samples.map((sample) => sample.remaining));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (seconds: number) => MARGIN.left + (seconds / maxSeconds) * plotWidth;
  const y = (calls: number) => MARGIN.top + plotHeight - (calls / maxCalls) * plotHeight;
  // One sample still draws a line: the count held to the end of the chart.
  const curve = samples.length === 1 ? [samples[0], { elapsedSeconds: maxSeconds, remaining: samples[0].remaining }] : samples;
  const points = curve.flatMap((sample, index) => {
    const next = curve[index + 1];
    const here = `${svgNumber(x(sample.elapsedSeconds))},${svgNumber(y(sample.remaining))}`;
    return next ? [here, `${svgNumber(x(next.elapsedSeconds))},${svgNumber(y(sample.remaining))}`] : [here];
  });
  const bottom = MARGIN.top + plotHeight;
  return [
    `<figure><figcaption>${escapeMarkup(title)}</figcaption>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeMarkup(title)}">`,
    `<line x1="${MARGIN.left}" y1="${bottom}" x2="${WIDTH - MARGIN.right}" y2="${bottom}" stroke="#888"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#888"/>`,
    `<text x="${MARGIN.left - 6}" y="${MARGIN.top + 10}" text-anchor="end" font-size="11">${maxCalls}</text>`,
    `<text x="${MARGIN.left - 6}" y="${bottom}" text-anchor="end" font-size="11">0</text>`,
    `<text x="${WIDTH - MARGIN.right}" y="${HEIGHT - 8}" text-anchor="end" font-size="11">${svgNumber(maxSeconds)} s</text>`,
    `<text x="${MARGIN.left}" y="${HEIGHT - 8}" font-size="11">calls left, seconds since the drain began</text>`,
    `<polyline fill="none" stroke="${DRAIN_CURVE_COLOUR}" stroke-width="3" points="${points.join(' ')}"/>`,
    '</svg></figure>',
  ].join('\n');
}

import type { GroupUpgradePhase } from '../flow/upgrade-steps';
import type { AuditEntry } from '../state/upgrade-records';
import { escapeMarkup, svgNumber } from '../../shared/markup';

/** A phase a group was in, from when it entered it to when it left it (the last one: to the end of the trail). */
export interface PhaseSpan {
  readonly phase: GroupUpgradePhase;
  readonly from: number;
  readonly to: number;
}

/** The phases of one group's audit trail as consecutive spans. */
export function phaseSpans(audit: readonly AuditEntry[]): PhaseSpan[] {
  const changes = audit.flatMap((entry) => (entry.event.type === 'phase' ? [{ at: entry.at, phase: entry.event.to }] : []));
  const end = audit.length > 0 ? audit[audit.length - 1].at : 0;
  return changes.map((change, index) => ({ phase: change.phase, from: change.at, to: changes[index + 1]?.at ?? Math.max(change.at, end) }));
}

const PHASE_COLOURS: Readonly<Record<GroupUpgradePhase, string>> = {
  pending: '#bbbbbb',
  'preflight-passed': '#9fb8d9',
  draining: '#f0a830',
  drained: '#e8d36a',
  deploying: '#8e6bd1',
  deployed: '#b39ae6',
  verified: '#6cc08b',
  canary: '#4fb3bf',
  restored: '#2e9e5b',
  'rolled-back': '#d9822b',
  failed: '#d13b3b',
};

const WIDTH = 560;
const ROW = 22;

/** One bar per phase on a shared time axis starting at `origin` (ms), `spanMs` wide. */
export function renderPhaseTimeline(spans: readonly PhaseSpan[], origin: number, spanMs: number, title: string): string {
  if (spans.length === 0) return `<p class="empty">${escapeMarkup(title)}: no phase changes recorded.</p>`;
  const scale = (WIDTH - 160) / Math.max(1, spanMs);
  const rows = spans.map((span, index) => {
    const x = 150 + (span.from - origin) * scale;
    const width = Math.max(2, (span.to - span.from) * scale);
    const y = index * ROW;
    const seconds = ((span.to - span.from) / 1000).toFixed(1);
    return [
      `<text x="0" y="${y + 15}" font-size="12">${escapeMarkup(span.phase)}</text>`,
      `<rect x="${svgNumber(x)}" y="${y + 4}" width="${svgNumber(width)}" height="${ROW - 8}" fill="${PHASE_COLOURS[span.phase]}"><title>${escapeMarkup(`${span.phase}: ${seconds} s`)}</title></rect>`,
    ].join('');
  });
  const height = spans.length * ROW;
  return [
    `<figure><figcaption>${escapeMarkup(title)}</figcaption>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeMarkup(title)}">`,
    ...rows,
    '</svg></figure>',
  ].join('\n');
}

import type { AuditEntry, AuditEvent, GroupRecord, UpgradeRecord } from '../state/upgrade-records';
import { drainSamples, renderDrainChart } from './drain-chart';
import { phaseSpans, renderPhaseTimeline } from './phase-timeline';
import { escapeMarkup } from '../../shared/markup';

/** What an upgrade's report is made of: its record, its groups' records and its whole audit trail. */
export interface UpgradeReportInput {
  readonly upgrade: UpgradeRecord;
  readonly groups: readonly GroupRecord[];
  readonly audit: readonly AuditEntry[];
}

/** One line of the audit trail as an operator reads it. */
export function describeAuditEvent(event: AuditEvent): string {
  switch (event.type) {
    case 'phase':
      return `${event.from} → ${event.to}`;
    case 'preflight':
      return `preflight ${event.ok ? 'passed' : 'failed'}: ${event.detail}`;
    case 'route-change':
      return `route table ${{ drain: 'drained', restore: 'restored', share: 'given a share' }[event.action]} (verified ${event.table})`;
    case 'drain-count':
      return `${event.remaining} call${event.remaining === 1 ? '' : 's'} left after ${event.elapsedSeconds} s${event.timedOut ? ' (past the maximum drain)' : ''}`;
    case 'force-end':
      return `call ${event.uuid} ended by force (${event.cause})`;
    case 'deploy':
      return `deploy ${event.image}:${event.version} ${event.status}${event.detail ? `: ${event.detail}` : ''}`;
    case 'health':
      return `health of ${event.instance} ${event.ok ? 'ok' : 'failing'}: ${event.detail}`;
    case 'canary':
      return describeCanaryEvent(event);
    case 'rollback':
      return `rolled back (${event.cause}) → ${event.outcome}: ${event.detail}`;
  }
}

function describeCanaryEvent(event: Extract<AuditEvent, { type: 'canary' }>): string {
  const step = `canary step ${event.step + 1} at ${event.share} % of new calls`;
  const why = event.reasons.length > 0 ? `: ${event.reasons.join('; ')}` : '';
  switch (event.verdict) {
    case 'start':
      return `${step} begins`;
    case 'pass':
      return `${step} passed after ${event.heldSeconds} s and ${event.calls} call(s)${why}`;
    case 'fail':
      return `${step} FAILED after ${event.heldSeconds} s and ${event.calls} call(s)${why}; share 0, group drained`;
    case 'backed-out':
      return `failed canary backed out: its last call ended ${event.heldSeconds} s after the failure`;
  }
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;color:#222}h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px}
h3{font-size:15px}table{border-collapse:collapse;font-size:12px;margin:8px 0 24px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left}
figure{margin:8px 0}figcaption{font-size:12px;color:#555}.empty{color:#777;font-size:12px}.outcome-restored{color:#2e9e5b}.outcome-failed,.outcome-rolled-back{color:#d13b3b}`;

const isoTime = (ms: number) => new Date(ms).toISOString();

function groupSection(group: GroupRecord, audit: readonly AuditEntry[], origin: number, spanMs: number): string {
  const label = `${group.mediaServerId} / ${group.groupId}`;
  const drainStart = audit.find((entry) => entry.event.type === 'route-change' && entry.event.action === 'drain')?.at;
  const rows = audit.map(
    (entry) =>
      `<tr><td>${escapeMarkup(isoTime(entry.at))}</td><td>${drainStart === undefined || entry.at < drainStart ? '' : escapeMarkup(`${((entry.at - drainStart) / 1000).toFixed(1)} s`)}</td><td>${escapeMarkup(describeAuditEvent(entry.event))}</td></tr>`,
  );
  return [
    `<h3>Group ${escapeMarkup(group.groupId)}: <span class="outcome-${escapeMarkup(group.phase)}">${escapeMarkup(group.phase)}</span>${group.forcedCalls ? `, ${group.forcedCalls} call(s) ended by force` : ''}${group.failure ? ` — ${escapeMarkup(group.failure)}` : ''}</h3>`,
    renderDrainChart(drainSamples(audit), `Drain of ${label}`),
    renderPhaseTimeline(phaseSpans(audit), origin, spanMs, `Phases of ${label}`),
    `<table><thead><tr><th>time (UTC)</th><th>since drain</th><th>event</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  ].join('\n');
}

/** The report as one self-contained HTML page (inline CSS and SVG, nothing fetched). */
export function renderUpgradeReport(input: UpgradeReportInput): string {
  const { upgrade, groups, audit } = input;
  const origin = Math.min(upgrade.createdAt, ...audit.map((entry) => entry.at));
  const spanMs = Math.max(0, ...audit.map((entry) => entry.at)) - origin;
  const mediaServers = [...new Set(groups.map((group) => group.mediaServerId))].sort();
  const sections = mediaServers.map((mediaServerId) => {
    const ofServer = groups.filter((group) => group.mediaServerId === mediaServerId).sort((a, b) => a.createdAt - b.createdAt);
    return [
      `<h2>Media server ${escapeMarkup(mediaServerId)}</h2>`,
      ...ofServer.map((group) => groupSection(group, audit.filter((entry) => entry.mediaServerId === mediaServerId && entry.groupId === group.groupId), origin, spanMs)),
    ].join('\n');
  });
  const release = groups[0] ? `${groups[0].image}:${groups[0].version}` : 'nothing yet';
  const outcomes = groups.map((group) => group.phase);
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>Upgrade ${escapeMarkup(upgrade.upgradeId)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>Upgrade ${escapeMarkup(upgrade.upgradeId)}</h1>`,
    `<p>Release ${escapeMarkup(release)}; started ${escapeMarkup(isoTime(upgrade.createdAt))}; ${groups.length} group upgrade(s) on ${mediaServers.length} media server(s): ${escapeMarkup(summary(outcomes))}.</p>`,
    ...sections,
    '</body></html>',
    '',
  ].join('\n');
}

function summary(outcomes: readonly string[]): string {
  const counts = new Map<string, number>();
  outcomes.forEach((outcome) => counts.set(outcome, (counts.get(outcome) ?? 0) + 1));
  return counts.size === 0 ? 'none' : [...counts].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
}

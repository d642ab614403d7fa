import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { systemClock } from '../shared/clock';
import { renderUpgradeReport } from '../upgrade/report/upgrade-report';
import type { GroupRecord, UpgradeRecord } from '../upgrade/state/upgrade-records';
import { CorruptStateError, DynamoUpgradeStateStore, type UpgradeStateStore } from '../upgrade/state/upgrade-state-store';
import { CliError } from './cli-error';
import { parseOptions } from './option-schema';
import { formatTable, type Output } from './output';
import { openUpgradeState, type UpgradeStateOptionValues } from './upgrade-state-options';

/** `upgrade status|history|report`: read the audit trail of upgrades, never change anything. */
export const UPGRADE_RECORD_ACTIONS = ['status', 'history', 'report'] as const;
export type UpgradeRecordAction = (typeof UPGRADE_RECORD_ACTIONS)[number];

export interface UpgradeRecordsOptionValues extends UpgradeStateOptionValues {
  readonly 'upgrade-id'?: string;
  readonly limit?: string;
  readonly out?: string;
  readonly json?: boolean;
}

const upgradeIdOption = z.string({ error: '--upgrade-id: required' }).min(1, '--upgrade-id: required');
const statusSchema = z.object({ 'upgrade-id': upgradeIdOption });
const LIMIT_RULE = '--limit: must be a whole number in 1..1000';
const historySchema = z.object({
  limit: z.string().regex(/^[0-9]{1,4}$/, LIMIT_RULE).transform(Number).pipe(z.number().min(1, LIMIT_RULE).max(1_000, LIMIT_RULE)).default(20),
});
const reportSchema = z.object({ 'upgrade-id': upgradeIdOption, out: z.string({ error: '--out: required (the HTML file to write)' }).regex(/\.html?$/i, '--out: must name an .html file') });

const releaseOf = (record: UpgradeRecord) => {
  const request = z.object({ image: z.string(), version: z.string() }).safeParse(JSON.parse(record.request));
  return request.success ? `${request.data.image}:${request.data.version}` : 'unknown release';
};
const seconds = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? '' : `${((to - from) / 1000).toFixed(1)}s`);

async function requireUpgrade(store: UpgradeStateStore, id: string): Promise<UpgradeRecord> {
  const upgrade = await store.getUpgrade(id);
  if (!upgrade) throw new CliError(`no upgrade "${id}" in the state table`);
  return upgrade;
}

function printStatus(upgrade: UpgradeRecord, groups: readonly GroupRecord[], json: boolean, output: Output): void {
  if (json) {
    output.line(JSON.stringify({ upgradeId: upgrade.upgradeId, createdAt: upgrade.createdAt, request: JSON.parse(upgrade.request), groups }));
    return;
  }
  output.line(`upgrade ${upgrade.upgradeId}: ${releaseOf(upgrade)}, started ${new Date(upgrade.createdAt).toISOString()}`);
  const rows = groups.map((group) => [group.mediaServerId, group.groupId, group.phase, seconds(group.drainStartedAt, group.drainedAt ?? group.timedOutAt), String(group.forcedCalls ?? 0), group.failure ?? '']);
  formatTable(['MEDIA SERVER', 'GROUP', 'PHASE', 'DRAIN', 'FORCED', 'FAILURE'], rows).forEach((line) => output.line(line));
}

async function printHistory(store: UpgradeStateStore, limit: number, json: boolean, output: Output): Promise<void> {
  const upgrades = await store.listUpgrades(limit);
  const summaries = await Promise.all(
    upgrades.map(async (upgrade) => {
      const phases = new Map<string, number>();
      (await store.listGroups(upgrade.upgradeId)).forEach((group) => phases.set(group.phase, (phases.get(group.phase) ?? 0) + 1));
      return { upgrade, phases: Object.fromEntries(phases) };
    }),
  );
  if (json) {
    output.line(JSON.stringify({ upgrades: summaries.map(({ upgrade, phases }) => ({ upgradeId: upgrade.upgradeId, createdAt: upgrade.createdAt, release: releaseOf(upgrade), groups: phases })) }));
    return;
  }
  if (summaries.length === 0) {
    output.line('no upgrades recorded');
    return;
  }
  const rows = summaries.map(({ upgrade, phases }) => [
    upgrade.upgradeId,
    new Date(upgrade.createdAt).toISOString(),
    releaseOf(upgrade),
    Object.entries(phases)
      .map(([phase, count]) => `${count} ${phase}`)
      .join(', '),
  ]);
  formatTable(['UPGRADE', 'STARTED', 'RELEASE', 'GROUPS'], rows).forEach((line) => output.line(line));
}

function writeReport(file: string, html: string, output: Output): void {
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, html);
  } catch (error) {
    throw new CliError(`--out: cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  output.line(file);
}

type StoreWork = (store: UpgradeStateStore) => Promise<void>;

/** The action's work, its options checked first (bad input fails before any state is opened). */
function workOf(action: UpgradeRecordAction, values: UpgradeRecordsOptionValues, output: Output): StoreWork {
  const json = values.json === true;
  switch (action) {
    case 'history': {
      const { limit } = parseOptions(historySchema, values);
      return (store) => printHistory(store, limit, json, output);
    }
    case 'status': {
      const { 'upgrade-id': id } = parseOptions(statusSchema, values);
      return async (store) => printStatus(await requireUpgrade(store, id), await store.listGroups(id), json, output);
    }
    case 'report': {
      const { 'upgrade-id': id, out } = parseOptions(reportSchema, values);
      return async (store) => {
        const upgrade = await requireUpgrade(store, id);
        writeReport(out, renderUpgradeReport({ upgrade, groups: await store.listGroups(id), audit: await store.audit(id) }), output);
      };
    }
  }
}

/** Runs `upgrade status|history|report` against the state the upgrade used (its table, or an embedded one in --state-dir). */
export async function runUpgradeRecordsCommand(action: UpgradeRecordAction, values: UpgradeRecordsOptionValues, context: { stdout: Output; env: Readonly<Record<string, string | undefined>> }): Promise<void> {
  const work = workOf(action, values, context.stdout);
  const state = await openUpgradeState(values, context.env);
  try {
    await work(new DynamoUpgradeStateStore({ client: state.client, tableName: state.tableName, clock: systemClock }));
  } catch (error) {
    // A damaged item is the state's problem, said as such, not a failure of the command.
    if (error instanceof CorruptStateError) throw new CliError(error.message);
    throw error;
  } finally {
    await state.close();
  }
}

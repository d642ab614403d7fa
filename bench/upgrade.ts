/**
 * Upgrade benchmark: a fleet of 50 simulated media servers x 2 call-control groups carrying ~1,000
 * concurrent calls, upgraded blue then green on each media server, 10 media servers at a time, by the
 * local orchestrator with the real steps. Media servers, call control and DynamoDB (dynalite) each run
 * in a helper process, so this process is the orchestrator alone.
 *
 * Reports: orchestration overhead beyond the natural drain time (target < 5 s for the whole fleet),
 * route-edit latency, the orchestrator's CPU and memory, and calls dropped or refused (must be 0).
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { systemClock, systemSleep } from '../runtime/shared/clock';
import type { GroupDeployer } from '../runtime/upgrade/deployers/deployer';
import { inventoryPasswordSource } from '../runtime/upgrade/steps/esl-password-source';
import type { FleetInventory } from '../runtime/upgrade/inventory/fleet-inventory';
import { createGroupUpgradeSteps } from '../runtime/upgrade/steps/group-upgrade-steps';
import { seedLocalRoutes } from '../runtime/upgrade/inventory/local-fleet';
import { inventoryMediaServerSessions } from '../runtime/upgrade/steps/media-server-sessions';
import { createDocumentClient } from '../runtime/dynamodb/document-client';
import { ensureTable } from '../runtime/dynamodb/tables';
import { runUpgrade } from '../runtime/upgrade/flow/upgrade-orchestrator';
import type { GroupRecord } from '../runtime/upgrade/state/upgrade-records';
import { parseUpgradeRequest } from '../runtime/upgrade/request/upgrade-request';
import { DynamoUpgradeStateStore } from '../runtime/upgrade/state/upgrade-state-store';
import { SIMULATOR_PASSWORD } from '../test/support/media-server-fixture';
import { BenchGroupDeployer } from './support/upgrade-bench-deployer';
import { naturalDrainMs, percentile, scheduledWallMs } from './support/upgrade-figures';
import { IpcProcess } from './support/upgrade-ipc';
import type { SwitchCalls } from './support/upgrade-switches';

const MEDIA_SERVERS = 50;
const GROUPS = ['blue', 'green'] as const;
const CONCURRENCY = 10;
const CONCURRENT_CALLS = 1_000;
const MIN_CALL_MS = 4_000;
const MAX_CALL_MS = 8_000;
const POLL_MS = 250;
const IMAGE = 'voiceplane/call-control';

const mediaServerId = (index: number) => `bench/ms-${String(index + 1).padStart(2, '0')}`;
const ms = (value: number) => `${(value / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const [switches, callControl, dynamo] = await Promise.all(
    ['upgrade-switches.ts', 'upgrade-call-control.ts', 'upgrade-dynamodb.ts'].map((script) => IpcProcess.start(path.join(__dirname, 'support', script))),
  );
  try {
    const eslPorts = await switches.request<number[]>('start', { count: MEDIA_SERVERS });
    const keys = eslPorts.flatMap((_, index) => GROUPS.map((group) => ({ key: `${mediaServerId(index)}/${group}`, group })));
    const ports = await callControl.request<Record<string, { eslPort: number; httpPort: number }>>('start', { groups: keys, version: '1.0.0' });
    const endpoint = await dynamo.request<string>('start');

    const inventory: FleetInventory = {
      mediaServers: eslPorts.map((eslPort, index) => ({
        id: mediaServerId(index),
        esl: { host: '127.0.0.1', port: eslPort },
        eslPassword: { source: 'literal', value: SIMULATOR_PASSWORD },
        groups: GROUPS.map((group) => {
          const { eslPort: groupEslPort, httpPort } = ports[`${mediaServerId(index)}/${group}`];
          return { id: group, deployment: { kind: 'local', host: '127.0.0.1', runDir: '/nonexistent', instances: [{ eslPort: groupEslPort, healthPort: httpPort }] } };
        }),
      })),
    };
    await seedLocalRoutes(inventory);
    const deployers = new Map<string, GroupDeployer>(
      keys.map(({ key, group }) => [key, new BenchGroupDeployer(callControl, key, group, ports[key], { image: IMAGE, version: '1.0.0' })]),
    );

    const client = createDocumentClient({ endpoint });
    await ensureTable(client, 'bench-upgrades');
    const store = new DynamoUpgradeStateStore({ client, tableName: 'bench-upgrades', clock: systemClock });
    const mediaServers = inventoryMediaServerSessions({
      inventory,
      passwords: inventoryPasswordSource({ inventory, env: {}, secrets: () => ({ send: async () => ({ $metadata: {} }) }), clock: systemClock }),
      keepOpen: true,
    });
    const steps = createGroupUpgradeSteps({ inventory, store, mediaServers, deployers: (id, group) => deployers.get(`${id}/${group}`)!, clock: systemClock, sleep: systemSleep });

    const averageCallSeconds = (MIN_CALL_MS + MAX_CALL_MS) / 2000;
    await switches.request('load', { ratePerSecond: CONCURRENT_CALLS / MEDIA_SERVERS / averageCallSeconds, minMs: MIN_CALL_MS, maxMs: MAX_CALL_MS });
    let concurrent = 0;
    for (let waited = 0; concurrent < CONCURRENT_CALLS * 0.95 && waited < 30_000; waited += 500) {
      await systemSleep(500);
      concurrent = await switches.request<number>('activeCalls');
    }
    process.stdout.write(
      `fleet: ${MEDIA_SERVERS} media servers x ${GROUPS.length} groups, ${concurrent} concurrent calls of ${MIN_CALL_MS / 1000}-${
        MAX_CALL_MS / 1000
      } s; upgrading ${CONCURRENCY} media servers at a time, poll ${POLL_MS} ms\n`,
    );

    let peakRss = process.memoryUsage().rss;
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      const memory = process.memoryUsage();
      peakRss = Math.max(peakRss, memory.rss);
      peakHeap = Math.max(peakHeap, memory.heapUsed);
    }, 100);
    const helpers = { 'media servers': switches, 'call control': callControl, dynalite: dynamo };
    const helperCpuBefore = Object.values(helpers).map((helper) => processCpuSeconds(helper.child.pid));
    const cpuBefore = process.cpuUsage();
    const startedAt = Date.now();
    const request = parseUpgradeRequest({ image: IMAGE, version: '1.1.0', groups: [...GROUPS], mediaServers: 'all', concurrency: CONCURRENCY, maxDrainSeconds: 120 });
    const summary = await runUpgrade({
      request,
      inventory,
      upgradeId: 'bench',
      steps,
      store,
      pollMs: POLL_MS,
      groupCallEnded: (mediaServerId, groupId, signal) => mediaServers.groupCallEnded(mediaServerId, groupId, signal),
    });
    const wallMs = Date.now() - startedAt;
    const cpu = process.cpuUsage(cpuBefore);
    const helperCpu = Object.keys(helpers).map((name, index) => `${name} ${(processCpuSeconds(Object.values(helpers)[index].child.pid) - helperCpuBefore[index]).toFixed(1)} s`);
    clearInterval(sampler);
    await mediaServers.close();

    const perSwitch = await switches.request<SwitchCalls[]>('stopLoad');
    const records = new Map((await store.listGroups('bench')).map((record) => [`${record.mediaServerId}/${record.groupId}`, record]));
    const natural = new Map<string, number>();
    const groupOverheads: number[] = [];
    perSwitch.forEach((result, index) => {
      for (const group of GROUPS) {
        const record = records.get(`${mediaServerId(index)}/${group}`);
        if (record?.drainWrittenAt === undefined || record.restoredAt === undefined) continue;
        const calls = result.calls.filter(([callGroup]) => callGroup === group).map(([, startMs, endMs]) => ({ startMs, endMs }));
        const drainMs = naturalDrainMs(calls, record.drainWrittenAt);
        natural.set(`${mediaServerId(index)}/${group}`, drainMs);
        groupOverheads.push(record.restoredAt - record.drainWrittenAt - drainMs);
      }
    });
    const segments = breakdown([...records.values()], natural);
    const idealPerMediaServer = eslPorts.map((_, index) => GROUPS.reduce((sum, group) => sum + (natural.get(`${mediaServerId(index)}/${group}`) ?? 0), 0));
    const idealWallMs = scheduledWallMs(idealPerMediaServer, CONCURRENCY);
    const routeEdits = (await store.audit('bench')).flatMap((entry) => (entry.event.type === 'route-change' ? [entry.at - entry.event.startedAt] : []));
    const calls = perSwitch.flatMap((result) => result.calls);
    client.destroy();

    const lines = [
      `upgrade: ${summary.status}, ${summary.mediaServers.filter((mediaServer) => mediaServer.status === 'upgraded').length}/${MEDIA_SERVERS} media servers upgraded`,
      `wall time: ${ms(wallMs)}; natural drains scheduled ${CONCURRENCY} at a time: ${ms(idealWallMs)}`,
      `orchestration overhead beyond the natural drain time (whole fleet): ${ms(wallMs - idealWallMs)} (target < 5 s)`,
      `per group, drain write -> restored, beyond its natural drain: p50 ${ms(percentile(groupOverheads, 0.5))}, p99 ${ms(percentile(groupOverheads, 0.99))}`,
      `per group, p50 / p99: ${segments.map(([name, values]) => `${name} ${ms(percentile(values, 0.5))} / ${ms(percentile(values, 0.99))}`).join('; ')}`,
      `route edits (read, db insert, read-back): ${routeEdits.length}, p50 ${percentile(routeEdits, 0.5).toFixed(1)} ms, p99 ${percentile(routeEdits, 0.99).toFixed(
        1,
      )} ms, max ${Math.max(...routeEdits).toFixed(1)} ms`,
      `orchestrator CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s over ${ms(wallMs)} (${(((cpu.user + cpu.system) / 1e3 / wallMs) * 100).toFixed(
        1,
      )}% of one core); peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB`,
      `helper processes' CPU meanwhile (2 cores shared): ${helperCpu.join(', ')}`,
      `calls: ${calls.length} answered, ${calls.filter(([, , , completed]) => !completed).length} dropped, ${perSwitch.reduce((sum, result) => sum + result.refused, 0)} refused`,
    ];
    lines.forEach((line) => process.stdout.write(`${line}\n`));
  } finally {
    await Promise.allSettled([switches, callControl, dynamo].map((helper) => helper.request('stop')));
  }
}

/** CPU seconds a process has used so far, from /proc (Linux). */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const CLOCK_TICKS_PER_SECOND = 100;
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Where each group's time went, segment by segment (from the records' timestamps). */
function breakdown(records: readonly GroupRecord[], natural: ReadonlyMap<string, number>): [string, number[]][] {
  const segment = (name: string, measure: (record: GroupRecord, naturalMs: number) => number | undefined): [string, number[]] => [
    name,
    records.flatMap((record) => {
      const value = measure(record, natural.get(`${record.mediaServerId}/${record.groupId}`) ?? 0);
      return value === undefined || Number.isNaN(value) ? [] : [value];
    }),
  ];
  const span = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? undefined : to - from);
  return [
    segment('preflight', (record) => span(record.createdAt, record.drainStartedAt)),
    segment('drain write', (record) => span(record.drainStartedAt, record.drainWrittenAt)),
    segment('drain detected late', (record, naturalMs) => span((record.drainWrittenAt ?? 0) + naturalMs, record.drainedAt)),
    segment('deploy', (record) => span(record.drainedAt, record.deployedAt)),
    segment('verify', (record) => span(record.deployedAt, record.verifiedAt)),
    segment('restore', (record) => span(record.verifiedAt, record.restoredAt)),
  ];
}

main().catch((error: Error) => {
  process.stderr.write(`bench:upgrade: ${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});

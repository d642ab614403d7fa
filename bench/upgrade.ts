/**
 * Upgrade benchmark: a fleet of 500 simulated media servers x 2 call-control groups carrying ~1,000
 * concurrent calls, upgraded blue then green on each media server, 40 media servers at a time, with the
 * real steps. Media servers, call control and DynamoDB (dynalite) each run in a helper process, so this
 * process is the orchestrator alone. `-- --media-servers N` runs a smaller fleet (see upgrade-bench-options.ts).
 *
 * Two paths, reported apart:
 * - the local CLI path (`voiceplane upgrade`): its default 1 s polls, a drain wait woken by each hangup of the
 *   group on a kept ESL connection (and at the end of the settle after the drain write), redeploys that complete
 *   in process. Reports the orchestration overhead beyond the natural drain time (target < 5 s for the whole
 *   fleet), route-edit latency, the orchestrator's CPU and memory, and calls dropped or refused (must be 0);
 * - the Step Functions path on 20 of the media servers: the deployed state machine definition under
 *   aws-local-stepfunctions with its Wait states (the first drain check 2 s after the drain write, then
 *   every 10 s; the rollout checked at once after Deploy), each task a fresh ESL connection as in Lambda;
 *   its overhead beside the poll model (the drain seen at the first check after it ended).
 */
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
import { DEFAULT_POLL_MS, runUpgrade } from '../runtime/upgrade/flow/upgrade-orchestrator';
import type { GroupRecord } from '../runtime/upgrade/state/upgrade-records';
import { parseUpgradeRequest } from '../runtime/upgrade/request/upgrade-request';
import { DynamoUpgradeStateStore } from '../runtime/upgrade/state/upgrade-state-store';
import { SIMULATOR_PASSWORD } from '../test/support/media-server-fixture';
import { pollOverheadMs, runStepFunctionsUpgrade, STEP_FUNCTIONS_FIRST_POLL_MS, STEP_FUNCTIONS_POLL_MS } from './support/step-functions-upgrade';
import { BenchGroupDeployer } from './support/upgrade-bench-deployer';
import { parseUpgradeBenchOptions, type UpgradeBenchOptions } from './support/upgrade-bench-options';
import { mean, percentile, processCpuSeconds } from './support/measure';
import { naturalDrainMs, scheduledWallMs } from './support/upgrade-figures';
import { IpcProcess } from './support/upgrade-ipc';
import type { SwitchCalls } from './support/upgrade-switches';

/**
 * 40 at a time for 500 media servers (12.5 per worker; smaller fleets keep that ratio). At 100 at a time,
 * the helper processes (all simulators in one, all call-control services in another) answered route edits
 * in 0.8 s (p50) on a shared 2-core machine and refused calls: the harness, not the orchestrator, set the pace.
 * The Step Functions path's media servers (default 20) run all at once (one round of 10 s polls), apart
 * from the local run's, whose per-media-server leases outlast it by 4 minutes and refuse another upgrade meanwhile.
 */
const GROUPS = ['blue', 'green'] as const;
const { mediaServers: MEDIA_SERVERS, concurrency: CONCURRENCY, stepFunctionsMediaServers: STEP_FUNCTIONS_MEDIA_SERVERS } = benchOptions();
/** About 2 calls per media server: 1,000 for the 500. */
const CONCURRENT_CALLS = 2 * MEDIA_SERVERS;
const MIN_CALL_MS = 4_000;
const MAX_CALL_MS = 8_000;
const IMAGE = 'voiceplane/call-control';

const mediaServerId = (index: number) => `bench/ms-${String(index + 1).padStart(3, '0')}`;
const ms = (value: number) => `${(value / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const [switches, callControl, dynamo] = await Promise.all(
    ['upgrade-switches.ts', 'upgrade-call-control.ts', 'upgrade-dynamodb.ts'].map((script) => IpcProcess.start(path.join(__dirname, 'support', script))),
  );
  try {
    const eslPorts = await switches.request<number[]>('start', { count: MEDIA_SERVERS + STEP_FUNCTIONS_MEDIA_SERVERS });
    const localIds = eslPorts.slice(0, MEDIA_SERVERS).map((_, index) => mediaServerId(index));
    const stepFunctionsIds = eslPorts.slice(MEDIA_SERVERS).map((_, index) => mediaServerId(MEDIA_SERVERS + index));
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
    await switches.request('load', { ratePerSecond: CONCURRENT_CALLS / eslPorts.length / averageCallSeconds, minMs: MIN_CALL_MS, maxMs: MAX_CALL_MS });
    let concurrent = 0;
    for (let waited = 0; concurrent < CONCURRENT_CALLS * 0.95 && waited < 30_000; waited += 500) {
      await systemSleep(500);
      concurrent = await switches.request<number>('activeCalls');
    }
    process.stdout.write(
      `fleet: ${MEDIA_SERVERS} (+${STEP_FUNCTIONS_MEDIA_SERVERS} for the Step Functions path) media servers x ${GROUPS.length} groups, ${concurrent} concurrent calls of ${MIN_CALL_MS / 1000}-${MAX_CALL_MS / 1000} s\n` +
        `local CLI path (voiceplane upgrade): ${CONCURRENCY} media servers at a time, poll ${DEFAULT_POLL_MS} ms (the CLI's default), drain waits woken by each hangup of the group, redeploy in process\n`,
    );

    let peakRss = process.memoryUsage().rss;
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      const memory = process.memoryUsage();
      peakRss = Math.max(peakRss, memory.rss);
      peakHeap = Math.max(peakHeap, memory.heapUsed);
    }, 100);
    const helpers = { 'media servers': switches, 'call control': callControl, dynalite: dynamo };
    const helperCpuBefore = Object.values(helpers).map((helper) => processCpuSeconds(helper.child.pid!));
    const cpuBefore = process.cpuUsage();
    const startedAt = Date.now();
    const request = parseUpgradeRequest({ image: IMAGE, version: '1.1.0', groups: [...GROUPS], mediaServers: localIds, concurrency: CONCURRENCY, maxDrainSeconds: 120 });
    const summary = await runUpgrade({
      request,
      inventory,
      upgradeId: 'bench',
      steps,
      store,
      pollMs: DEFAULT_POLL_MS,
      groupCallEnded: (mediaServerId, groupId, signal) => mediaServers.groupCallEnded(mediaServerId, groupId, signal),
    });
    const wallMs = Date.now() - startedAt;
    const cpu = process.cpuUsage(cpuBefore);
    const helperCpu = Object.keys(helpers).map((name, index) => `${name} ${(processCpuSeconds(Object.values(helpers)[index].child.pid!) - helperCpuBefore[index]).toFixed(1)} s`);
    clearInterval(sampler);
    await mediaServers.close();

    const stepFunctionsStartedAt = Date.now();
    // The execution fails if any media server failed: the bench reports it after the local figures.
    const stepFunctionsFailure = await runStepFunctionsUpgrade({
      inventory,
      store,
      deployers: (id, group) => deployers.get(`${id}/${group}`)!,
      request: { image: IMAGE, version: '1.2.0', groups: [...GROUPS], mediaServers: stepFunctionsIds, concurrency: STEP_FUNCTIONS_MEDIA_SERVERS, maxDrainSeconds: 120 },
      executionName: 'bench-sfn',
    }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    const stepFunctionsWallMs = Date.now() - stepFunctionsStartedAt;

    const perSwitch = await switches.request<SwitchCalls[]>('stopLoad');
    const { records, natural, groupOverheads } = await drainFigures(store, 'bench', perSwitch);
    const stepFunctions = await drainFigures(store, 'bench-sfn', perSwitch);
    const segments = breakdown([...records.values()], natural);
    const idealPerMediaServer = localIds.map((id) => GROUPS.reduce((sum, group) => sum + (natural.get(`${id}/${group}`) ?? 0), 0));
    const idealWallMs = scheduledWallMs(idealPerMediaServer, CONCURRENCY);
    const routeEdits = (await store.audit('bench')).flatMap((entry) => (entry.event.type === 'route-change' ? [entry.at - entry.event.startedAt] : []));
    const calls = perSwitch.flatMap((result) => result.calls);
    client.destroy();

    const stepFunctionsNatural = stepFunctionsIds.map((id) => GROUPS.map((group) => stepFunctions.natural.get(`${id}/${group}`) ?? 0));
    const stepFunctionsIdealMs = scheduledWallMs(stepFunctionsNatural.map((drains) => drains.reduce((sum, drain) => sum + drain, 0)), STEP_FUNCTIONS_MEDIA_SERVERS);
    const pollModelMs = scheduledWallMs(stepFunctionsNatural.map((drains) => drains.reduce((sum, drain) => sum + drain + pollOverheadMs(drain), 0)), STEP_FUNCTIONS_MEDIA_SERVERS);
    const stepFunctionsUpgraded = [...stepFunctions.records.values()].filter((record) => record.phase === 'restored').length;

    const failures = summary.mediaServers.flatMap((mediaServer) =>
      mediaServer.groups.flatMap((group) => (group.error === undefined ? [] : [`${mediaServer.mediaServerId}/${group.groupId}: ${group.error.code}: ${group.error.message}`])),
    );
    const lines = [
      `upgrade: ${summary.status}, ${summary.mediaServers.filter((mediaServer) => mediaServer.status === 'upgraded').length}/${MEDIA_SERVERS} media servers upgraded`,
      ...failures.slice(0, 5).map((failure) => `  failed: ${failure}`),
      ...(failures.length > 5 ? [`  ... and ${failures.length - 5} more groups`] : []),
      `wall time: ${ms(wallMs)}; natural drains scheduled ${CONCURRENCY} at a time: ${ms(idealWallMs)}`,
      `orchestration overhead beyond the natural drain time (whole fleet): ${ms(wallMs - idealWallMs)} (target < 5 s)`,
      `per group, drain write -> restored, beyond its natural drain: p50 ${ms(percentile(groupOverheads, 0.5))}, p99 ${ms(percentile(groupOverheads, 0.99))}`,
      `per group, mean / p50 / p99: ${segments.map(([name, values]) => `${name} ${ms(mean(values))} / ${ms(percentile(values, 0.5))} / ${ms(percentile(values, 0.99))}`).join('; ')}`,
      `route edits (read, db insert, read-back): ${routeEdits.length}, p50 ${percentile(routeEdits, 0.5).toFixed(1)} ms, p99 ${percentile(routeEdits, 0.99).toFixed(
        1,
      )} ms, max ${Math.max(...routeEdits).toFixed(1)} ms`,
      `orchestrator CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s over ${ms(wallMs)} (${(((cpu.user + cpu.system) / 1e3 / wallMs) * 100).toFixed(
        1,
      )}% of one core); peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB`,
      `helper processes' CPU meanwhile (2 cores shared): ${helperCpu.join(', ')}`,
      `Step Functions path (the deployed definition under aws-local-stepfunctions, Wait states ${STEP_FUNCTIONS_POLL_MS / 1000} s but the first drain check ${
        STEP_FUNCTIONS_FIRST_POLL_MS / 1000
      } s after the drain write, the rollout checked at once after Deploy, a fresh ESL connection per task as in Lambda, no wake on hangup): ` +
        `${STEP_FUNCTIONS_MEDIA_SERVERS} media servers at once, ${stepFunctionsUpgraded}/${STEP_FUNCTIONS_MEDIA_SERVERS * GROUPS.length} groups upgraded${stepFunctionsFailure === undefined ? '' : `; FAILED: ${stepFunctionsFailure}`}`,
      `  wall time: ${ms(stepFunctionsWallMs)}; natural drains: ${ms(stepFunctionsIdealMs)}; overhead beyond them ${ms(stepFunctionsWallMs - stepFunctionsIdealMs)}, of which the poll model ` +
        `(drain seen at the first check after it ended, up to one poll late, per group) accounts for ${ms(pollModelMs - stepFunctionsIdealMs)} and the steps for ${ms(stepFunctionsWallMs - pollModelMs)}`,
      `  per group, drain write -> restored, beyond its natural drain: p50 ${ms(percentile(stepFunctions.groupOverheads, 0.5))}, p99 ${ms(percentile(stepFunctions.groupOverheads, 0.99))}`,
      `calls (both paths): ${calls.length} answered, ${calls.filter(([, , , completed]) => !completed).length} dropped, ${perSwitch.reduce((sum, result) => sum + result.refused, 0)} refused`,
    ];
    lines.forEach((line) => process.stdout.write(`${line}\n`));
    if (summary.status !== 'succeeded' || stepFunctionsFailure !== undefined) process.exitCode = 1;
  } finally {
    await Promise.allSettled([switches, callControl, dynamo].map((helper) => helper.request('stop')));
  }
}

function benchOptions(): UpgradeBenchOptions {
  try {
    return parseUpgradeBenchOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench:upgrade: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

/** Each upgraded group's record, its natural drain (from the calls on its media server) and its time from drain write to restored beyond it. */
async function drainFigures(store: DynamoUpgradeStateStore, upgradeId: string, perSwitch: readonly SwitchCalls[]) {
  const records = new Map((await store.listGroups(upgradeId)).map((record) => [`${record.mediaServerId}/${record.groupId}`, record]));
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
  return { records, natural, groupOverheads };
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

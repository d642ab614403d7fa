import { randomBytes } from 'crypto';
import { mkdtempSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { renderCallControlDialplan } from '../dialplan';
import { FreeSwitchSimulator } from '../freeswitch-simulator/freeswitch-simulator';
import { findFreeSwitchBinary, LocalFreeSwitch } from '../local-freeswitch/local-freeswitch';
import { farEndDialString } from '../local-freeswitch/carrier-profile';
import { startSipCallLoad, type CallLoad, type CallLoadRequest } from '../local-freeswitch/sip-call-load';
import { MediaServerClient } from '../media-server';
import { tallyCalls, type CallTally } from '../upgrade/progress/call-tally';
import { systemClock, systemSleep, type Clock, type Sleep } from '../shared/clock';
import { createFleetUpgradeSteps } from '../upgrade/steps/fleet-upgrade-steps';
import { launchLocalFleet, localDeployers, localFleetInventory, seedLocalRoutes } from '../upgrade/inventory/local-fleet';
import { progressPrinter } from '../upgrade/progress/progress-printer';
import { newUpgradeId } from '../upgrade/request/upgrade-id';
import { runUpgrade } from '../upgrade/flow/upgrade-orchestrator';
import { faultyReleaseCommand } from '../upgrade/deployers/faulty-release-command';
import { startCallLedger, type CallLedger } from '../upgrade/canary/call-ledger';
import type { CanaryPolicyInput } from '../upgrade/canary';
import { canaryCost, type CanaryCost } from '../upgrade/report/canary-cost';
import type { UpgradeSummary } from '../upgrade/progress/upgrade-progress';
import { parseUpgradeRequest } from '../upgrade/request/upgrade-request';
import { DynamoUpgradeStateStore } from '../upgrade/state/upgrade-state-store';
import { CliError, UsageError } from './cli-error';
import { openEmbeddedDatabase } from './embedded-database';
import { formatTable, type Output } from './output';

/**
 * Each SIP call is four channels of the one local FreeSWITCH (caller, media server in and out, far end): 20 calls/s
 * of 2-6 s take about a core of a 2-core machine, which then starves the call-control processes the upgrade restarts.
 */
const REAL_FREESWITCH_CALLS_PER_SECOND = 5;

export interface DemoSettings {
  readonly callsPerSecond: number;
  readonly minCallMs: number;
  readonly maxCallMs: number;
  /** Load before the upgrade starts, so both groups carry calls. */
  readonly warmUpMs: number;
  readonly fromVersion: string;
  readonly toVersion: string;
  readonly pollMs: number;
  /** `--canary`: the percent of its calls the new version fails, and the canary that judges it. */
  readonly faultyPercent: number;
  readonly canary: CanaryPolicyInput;
}

export const DEFAULT_DEMO_SETTINGS: DemoSettings = {
  callsPerSecond: 20,
  minCallMs: 2_000,
  maxCallMs: 6_000,
  warmUpMs: 3_000,
  fromVersion: '1.0.0',
  toVersion: '1.1.0',
  pollMs: 250,
  faultyPercent: 30,
  canary: { steps: [5, 25], hold: { seconds: 60 }, thresholds: { minCalls: 10 } },
};

export interface DemoContext {
  readonly stdout: Output;
  /** Environment of the call-control processes the demo starts. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTty: boolean;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly settings?: Partial<DemoSettings>;
}

const MEDIA_SERVER_ID = 'demo/ms-1';
const IMAGE = 'voiceplane/call-control';
const DEMO_CONTEXT = 'demo';
const TABLE = 'voiceplane-demo-upgrades';

/** What the demo needs of its media server; the simulator and the real FreeSWITCH both provide it. */
interface DemoMediaServer {
  /** Which media server runs, for the output. */
  readonly description: string;
  readonly eslPort: number;
  readonly password: string;
  /** Added to the environment of the call-control processes. */
  readonly callControlEnv: Readonly<Record<string, string>>;
  placeCalls(request: CallLoadRequest): Promise<CallLoad>;
  stop(): Promise<void>;
}

async function startSimulator(runDir: string): Promise<DemoMediaServer> {
  const password = randomBytes(12).toString('hex');
  const simulator = new FreeSwitchSimulator({ password, dbFile: path.join(runDir, 'core-db.json'), dialplanXml: renderCallControlDialplan({ context: DEMO_CONTEXT }) });
  const { eslPort } = await simulator.start();
  return {
    description: 'simulated FreeSWITCH',
    eslPort,
    password,
    callControlEnv: {},
    placeCalls: async (request) => simulator.placeCalls({ ...request, destination: '15550100000', context: DEMO_CONTEXT }),
    stop: () => simulator.stop(),
  };
}

/** `--freeswitch PATH` as an absolute path to an executable file, or a usage error naming the flag. */
function freeSwitchBinaryOption(value: string): string {
  const binary = path.resolve(value);
  if (!isRegularFile(binary) || findFreeSwitchBinary(binary) === undefined) throw new UsageError(`--freeswitch: no executable FreeSWITCH binary at ${JSON.stringify(value)}`);
  return binary;
}

/** A directory passes the executable check too. */
function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

async function startRealFreeSwitch(binary: string, runDir: string): Promise<DemoMediaServer> {
  let freeswitch: LocalFreeSwitch;
  try {
    freeswitch = await LocalFreeSwitch.start({ binary, baseDir: path.join(runDir, 'freeswitch') });
  } catch (error) {
    throw new CliError(`--freeswitch ${binary}: FreeSWITCH did not start: ${(error as Error).message.split('\n')[0].replace(/[:\s]+$/, '')}`);
  }
  let version: string;
  try {
    const client = await MediaServerClient.connect(freeswitch.eslOptions);
    version = (await client.status().finally(() => client.close())).version;
  } catch (error) {
    await freeswitch.stop();
    throw error;
  }
  return {
    description: `real FreeSWITCH ${/^[0-9][0-9.]*[0-9]/.exec(version)?.[0] ?? version.trim()} (${binary})`,
    eslPort: freeswitch.ports.esl,
    password: freeswitch.password,
    callControlEnv: { CALL_CONTROL_BRIDGE_TARGET: farEndDialString(freeswitch) },
    placeCalls: (request) => startSipCallLoad(freeswitch, request),
    stop: () => freeswitch.stop(),
  };
}

/**
 * `voiceplane demo`: a blue-green upgrade of call control under a steady call load, all on this machine.
 * Resolves 0 when the upgrade succeeded and no call was dropped or refused, else 1.
 * `--canary`: the new version fails a share of the calls it takes; the upgrade gives blue a canary share first.
 * Resolves 0 when the canary failed blue, rolled it back and left green alone, and every call that did not
 * complete was one the bad version failed (none dropped by the upgrade or the rollback), else 1.
 */
export async function runDemoCommand(values: { readonly json?: boolean; readonly freeswitch?: string; readonly canary?: boolean }, context: DemoContext): Promise<number> {
  const freeSwitchBinary = values.freeswitch === undefined ? undefined : freeSwitchBinaryOption(values.freeswitch);
  const realDefaults = freeSwitchBinary === undefined ? {} : { callsPerSecond: REAL_FREESWITCH_CALLS_PER_SECOND };
  const settings = { ...DEFAULT_DEMO_SETTINGS, ...realDefaults, ...context.settings };
  const clock = context.clock ?? systemClock;
  const sleep = context.sleep ?? systemSleep;
  const json = values.json === true;
  const canary = values.canary === true;
  const say = (text: string) => (json ? undefined : context.stdout.line(text));
  const runDir = mkdtempSync(path.join(tmpdir(), 'voiceplane-demo-'));
  const cleanups: (() => Promise<void>)[] = [async () => rmSync(runDir, { recursive: true, force: true })];
  try {
    const mediaServer = freeSwitchBinary === undefined ? await startSimulator(runDir) : await startRealFreeSwitch(freeSwitchBinary, runDir);
    const { eslPort, password } = mediaServer;
    cleanups.unshift(() => mediaServer.stop());
    const env = { ...context.env, ...mediaServer.callControlEnv };

    const { client, close } = await openEmbeddedDatabase({ tables: [TABLE] });
    cleanups.unshift(close);

    const inventory = await localFleetInventory([{ id: MEDIA_SERVER_ID, eslPort, password, groups: ['blue', 'green'] }], runDir);
    const command = canary ? faultyReleaseCommand({ version: settings.toVersion, faults: { percent: settings.faultyPercent, mode: 'hangup' } }) : undefined;
    const launch = { env, clock, sleep, command };
    cleanups.unshift(async () => void (await Promise.all(localDeployers(inventory, launch).map((deployer) => deployer.stopAll()))));
    say(`media server ${MEDIA_SERVER_ID}: ${mediaServer.description} on 127.0.0.1:${eslPort}; state in an embedded DynamoDB (dynalite)`);
    say(`starting call control ${settings.fromVersion}: groups blue and green, one local process each`);
    await launchLocalFleet(inventory, { image: IMAGE, version: settings.fromVersion }, launch);
    await seedLocalRoutes(inventory);

    const load = await mediaServer.placeCalls({
      count: 1_000_000,
      ratePerSecond: settings.callsPerSecond,
      durationMs: () => settings.minCallMs + Math.floor(Math.random() * (settings.maxCallMs - settings.minCallMs)),
    });
    cleanups.unshift(async () => load.cancel());
    say(`placing ${settings.callsPerSecond} calls/s of ${settings.minCallMs / 1000}-${settings.maxCallMs / 1000} s; upgrading blue, then green, to ${settings.toVersion}`);
    if (canary) say(`${settings.toVersion} is a bad version: it fails ${settings.faultyPercent} % of the calls it takes; each group gets a canary share first (${settings.canary.steps.join(' %, then ')} %)`);
    let ledger: CallLedger | undefined;
    if (canary) {
      const started = await startCallLedger({ host: '127.0.0.1', port: eslPort, password });
      cleanups.unshift(() => started.stop());
      ledger = started;
    }
    await sleep(settings.warmUpMs, context.signal);

    const store = new DynamoUpgradeStateStore({ client, tableName: TABLE, clock });
    const fleet = createFleetUpgradeSteps({ inventory, store, env, keepConnectionsOpen: true, clock, sleep, localCommand: command, settings: { drainSettleMs: 1_000, verifyRetryMs: 250 } });
    cleanups.unshift(() => fleet.close());
    const request = parseUpgradeRequest({
      image: IMAGE,
      version: settings.toVersion,
      groups: ['blue', 'green'],
      mediaServers: [MEDIA_SERVER_ID],
      maxDrainSeconds: 120,
      concurrency: 1,
      ...(canary ? { canary: settings.canary } : {}),
    });
    const printer = progressPrinter(context.stdout, json ? 'json' : context.isTty ? 'tty' : 'plain', clock);
    const upgradeId = newUpgradeId(clock.now());
    let upgrade: UpgradeSummary;
    try {
      upgrade = await runUpgrade({
        request,
        inventory,
        upgradeId,
        steps: fleet.steps,
        store,
        clock,
        sleep,
        pollMs: settings.pollMs,
        groupCallEnded: fleet.groupCallEnded,
        signal: context.signal,
        onProgress: (event) => printer.progress(event),
      });
    } finally {
      load.cancel();
    }
    say(`upgrade done; waiting for the last calls (up to ${settings.maxCallMs / 1000} s)`);
    const calls = tallyCalls(await load.outcomes());
    const cost = ledger ? canaryCost('blue', await store.audit(upgradeId), ledger.calls()) : undefined;
    const passed = cost ? canaryCaught(upgrade, calls, cost) : upgrade.status === 'succeeded' && calls.dropped === 0 && calls.refused === 0;
    if (json) {
      printer.summary(upgrade, { ...calls, maxDrainSeconds: upgrade.maxDrainSeconds, passed, mediaServer: mediaServer.description, ...(cost ? { canary: cost } : {}) });
    } else {
      printer.summary(upgrade);
      report(context.stdout, calls, upgrade, passed, cost);
    }
    return passed ? 0 : 1;
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}

/**
 * The canary did its job: blue failed its canary and was rolled back, green was never started, and every call that did
 * not complete is one the bad version failed (the caller sees such a call refused or cut short, whichever the bad
 * version's hangup came before or after the answer).
 */
function canaryCaught(upgrade: UpgradeSummary, calls: CallTally, cost: CanaryCost): boolean {
  const phases = upgrade.mediaServers.flatMap((server) => server.groups.map((group) => `${group.groupId} ${group.phase} ${group.error?.code ?? ''}`.trim()));
  const rolledBack = phases.join(', ') === 'blue rolled-back CanaryFailed, green pending';
  return rolledBack && cost.failedCalls > 0 && calls.dropped + calls.refused === cost.failedCalls;
}

function report(output: Output, calls: CallTally, upgrade: UpgradeSummary, passed: boolean, cost?: CanaryCost): void {
  const notCompleted = calls.dropped + calls.refused;
  const rows = [
    ['calls placed', String(calls.placed)],
    ['calls completed', String(calls.completed)],
    ...(cost
      ? [
          ['calls the bad version took', String(cost.canaryCalls)],
          ['calls it failed', String(cost.failedCalls)],
          ['first failure to share 0', cost.detectionMs === undefined ? '-' : `${(cost.detectionMs / 1000).toFixed(1)}s (${cost.callsMeanwhile} call(s) taken meanwhile)`],
          ['other calls not completed', String(notCompleted - cost.failedCalls)],
        ]
      : [
          ['calls dropped', String(calls.dropped)],
          ['calls refused', String(calls.refused)],
        ]),
    ['max drain time', `${upgrade.maxDrainSeconds.toFixed(1)}s`],
  ];
  formatTable(['', ''], rows)
    .slice(1)
    .forEach((line) => output.line(line));
  if (cost) {
    output.line(passed ? 'demo passed: the canary caught the bad version and rolled it back; no other call was dropped or refused' : `demo FAILED: upgrade ${upgrade.status}, ${notCompleted - cost.failedCalls} call(s) not completed besides the bad version's failures`);
    return;
  }
  output.line(passed ? 'demo passed: no call dropped or refused' : `demo FAILED: upgrade ${upgrade.status}, ${calls.dropped} dropped, ${calls.refused} refused`);
}

import { randomBytes } from 'crypto';
import { spawn } from 'child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { systemSleep, type Sleep } from '../../shared/clock';
import type { GroupDeployer, GroupInstance, Release } from './deployer';
import type { LocalDeployment } from '../inventory/fleet-inventory';
import { describeIssues } from '../request/input-error';
import { isSameProcess, processStartTicks } from './process-identity';
import { canConnect } from './tcp-probe';
import { UpgradeStepError, type DeploymentCheck } from '../flow/upgrade-steps';
import { callControlEnvironment } from '../../call-control/call-control-environment';

/** How to run a call-control release as a process. */
export interface ProcessCommand {
  readonly executable: string;
  readonly args: readonly string[];
  /** Added to the process's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface LocalProcessDeployerOptions {
  readonly mediaServerId: string;
  readonly groupId: string;
  readonly deployment: LocalDeployment;
  /** Environment the processes inherit (the call-control variables are added). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Default: the reference service, `runtime/handlers/call-control`. */
  readonly command?: (release: Release) => ProcessCommand;
  /** How long a stopped process may take to exit after SIGTERM before it is killed (default 10 000 ms). */
  readonly stopTimeoutMs?: number;
  readonly sleep?: Sleep;
}

const stateSchema = z.object({
  release: z.object({ image: z.string(), version: z.string() }),
  deploymentId: z.string(),
  processes: z.array(
    z.object({ pid: z.number().int().positive(), startTicks: z.string().optional(), eslPort: z.number(), healthPort: z.number(), image: z.string(), version: z.string() }),
  ),
});
type DeployerState = z.output<typeof stateSchema>;
type RecordedProcess = DeployerState['processes'][number];

const EXIT_POLL_MS = 20;
/** SIGKILL cannot be caught: a process still there after this is stuck in the kernel (or not ours to kill). */
const KILL_TIMEOUT_MS = 5_000;
const CONNECT_PROBE_MS = 500;

const HANDLER = path.join(__dirname, '../../handlers/call-control');
const SOURCE_TSCONFIG = path.join(__dirname, '../../../tsconfig.json');

/** The reference service from these sources: through ts-node when running from TypeScript, else the compiled file. */
export function referenceCallControlCommand(): ProcessCommand {
  if (__filename.endsWith('.ts')) {
    // ts-node looks for its tsconfig from the working directory; from anywhere else than the sources it
    // would compile with defaults that do not fit them (TS5109), so name the project.
    return { executable: process.execPath, args: ['-r', require.resolve('ts-node/register/transpile-only'), `${HANDLER}.ts`], env: { TS_NODE_PROJECT: SOURCE_TSCONFIG } };
  }
  return { executable: process.execPath, args: [`${HANDLER}.js`] };
}

/**
 * Deploys a group of local call-control processes (tests and the demo): stops each member with SIGTERM
 * (the group is drained, so the service's graceful shutdown is immediate) and starts the new release on
 * the SAME ports. The processes are detached and recorded in `runDir` (pid, release), so a restarted
 * orchestrator, in another process, can stop what an earlier one started.
 */
export class LocalProcessDeployer implements GroupDeployer {
  private readonly sleep: Sleep;
  private readonly stopTimeoutMs: number;
  private readonly command: (release: Release) => ProcessCommand;

  constructor(private readonly options: LocalProcessDeployerOptions) {
    this.sleep = options.sleep ?? systemSleep;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.command = options.command ?? referenceCallControlCommand;
  }

  async current(): Promise<Release> {
    const state = this.readState();
    if (state === undefined) throw new UpgradeStepError('DeploymentFailed', `${this.name}: no local deployment recorded in ${this.options.deployment.runDir}`);
    return state.release;
  }

  async start(release: Release): Promise<string> {
    const state = this.readState();
    const runsRelease = (entry: RecordedProcess | undefined) => entry !== undefined && sameRelease(entry, release) && isRunning(entry);
    const entryOf = (eslPort: number) => state?.processes.find((entry) => entry.eslPort === eslPort);
    if (state !== undefined && sameRelease(state.release, release) && this.options.deployment.instances.every((instance) => runsRelease(entryOf(instance.eslPort)))) {
      return state.deploymentId;
    }
    const deploymentId = `${release.version}@${randomBytes(4).toString('hex')}`;
    // Recorded after each restart, with the members not restarted yet, so a retry after a crash resumes.
    let processes = state?.processes ?? [];
    for (const instance of this.options.deployment.instances) {
      const previous = entryOf(instance.eslPort);
      if (runsRelease(previous)) continue;
      if (previous !== undefined) await this.stopProcess(previous);
      const pid = this.spawnInstance(release, instance);
      const startTicks = processStartTicks(pid);
      const started: RecordedProcess = { pid, ...(startTicks === undefined || startTicks === 'exited' ? {} : { startTicks }), ...instance, ...release };
      processes = [...processes.filter((entry) => entry.eslPort !== instance.eslPort), started];
      this.writeState({ release, deploymentId, processes });
    }
    return deploymentId;
  }

  async status(deploymentId: string): Promise<DeploymentCheck> {
    const state = this.readState();
    if (state?.deploymentId !== deploymentId)
      return { complete: false, failed: true, detail: `${this.name}: deployment ${deploymentId} was replaced by ${state?.deploymentId ?? 'nothing'}` };
    const dead = state.processes.find((entry) => !isRunning(entry));
    if (dead !== undefined) return { complete: false, failed: true, detail: `${this.name}: process on port ${dead.eslPort} exited: ${this.lastLogLine(dead.eslPort)}` };
    const listening = await Promise.all(
      state.processes.map(async (entry) => (await canConnect(this.host, entry.healthPort, CONNECT_PROBE_MS)) && canConnect(this.host, entry.eslPort, CONNECT_PROBE_MS)),
    );
    const up = listening.filter(Boolean).length;
    return { complete: up === listening.length, failed: false, detail: `${this.name}: ${up}/${listening.length} processes listening (${state.release.version})` };
  }

  async instances(): Promise<GroupInstance[]> {
    return this.options.deployment.instances.map((instance) => ({
      id: `${this.host}:${instance.eslPort}`,
      host: this.host,
      eslPort: instance.eslPort,
      healthUrl: `http://${this.host}:${instance.healthPort}/health`,
    }));
  }

  /** Stops every recorded process (gracefully, then by force after the stop timeout). */
  async stopAll(): Promise<void> {
    const state = this.readState();
    await Promise.all((state?.processes ?? []).map((entry) => this.stopProcess(entry)));
  }

  private get name(): string {
    return `local group ${this.options.groupId} of ${this.options.mediaServerId}`;
  }

  private get host(): string {
    return this.options.deployment.host;
  }

  /** Files of this group in the run directory, which media servers may share. */
  private file(suffix: string): string {
    return path.join(this.options.deployment.runDir, `${this.options.mediaServerId.replace('/', '_')}-${this.options.groupId}${suffix}`);
  }

  private get stateFile(): string {
    return this.file('.json');
  }

  private logFile(eslPort: number): string {
    return this.file(`-${eslPort}.log`);
  }

  private readState(): DeployerState | undefined {
    if (!existsSync(this.stateFile)) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.stateFile, 'utf8'));
    } catch (error) {
      throw new UpgradeStepError('DeploymentFailed', `${this.stateFile}: not JSON (${(error as Error).message})`);
    }
    const parsed = stateSchema.safeParse(json);
    if (!parsed.success) throw new UpgradeStepError('DeploymentFailed', `${this.stateFile}: ${describeIssues(parsed.error.issues)}`);
    return parsed.data;
  }

  /** Written to a temporary file and renamed, so a crash never leaves half a state file. */
  private writeState(state: DeployerState): void {
    mkdirSync(this.options.deployment.runDir, { recursive: true });
    const temporary = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state)}\n`);
    renameSync(temporary, this.stateFile);
  }

  private spawnInstance(release: Release, instance: { eslPort: number; healthPort: number }): number {
    mkdirSync(this.options.deployment.runDir, { recursive: true });
    const log = openSync(this.logFile(instance.eslPort), 'a');
    try {
      const { executable, args, env } = this.command(release);
      const child = spawn(executable, [...args], {
        detached: true,
        stdio: ['ignore', log, log],
        env: {
          ...this.options.env,
          ...env,
          ...callControlEnvironment({ group: this.options.groupId, version: release.version, eslPort: instance.eslPort, healthPort: instance.healthPort, listenHost: this.host }),
        },
      });
      if (child.pid === undefined) throw new UpgradeStepError('DeploymentFailed', `${this.name}: could not start ${executable}`);
      child.unref();
      return child.pid;
    } finally {
      closeSync(log);
    }
  }

  private async stopProcess(entry: RecordedProcess): Promise<void> {
    if (!isRunning(entry)) return;
    process.kill(entry.pid, 'SIGTERM');
    for (let waited = 0; isRunning(entry) && waited < this.stopTimeoutMs; waited += EXIT_POLL_MS) await this.sleep(EXIT_POLL_MS);
    if (!isRunning(entry)) return;
    process.kill(entry.pid, 'SIGKILL');
    for (let waited = 0; isRunning(entry); waited += EXIT_POLL_MS) {
      if (waited >= KILL_TIMEOUT_MS) throw new UpgradeStepError('DeploymentFailed', `${this.name}: process ${entry.pid} on port ${entry.eslPort} did not exit ${KILL_TIMEOUT_MS} ms after SIGKILL`);
      await this.sleep(EXIT_POLL_MS);
    }
  }

  private lastLogLine(eslPort: number): string {
    const file = this.logFile(eslPort);
    if (!existsSync(file)) return 'no log';
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    return lines[lines.length - 1]?.slice(0, 300) || 'empty log';
  }
}

function sameRelease(first: Release, second: Release): boolean {
  return first.image === second.image && first.version === second.version;
}

function isRunning(entry: RecordedProcess): boolean {
  return isSameProcess(entry.pid, entry.startTicks);
}

import { type ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { EslClient } from '../esl';
import {
  HOST_VARIABLES_FILE,
  LOG_FILE,
  renderHostVariables,
  renderMediaServerConfig,
  renderSecretsInclude,
  SECRETS_FILE,
} from '../freeswitch-config/media-server-config';
import type { MediaServerSettingsInput } from '../freeswitch-config/media-server-settings';
import { SIP_PROFILE_NAME } from '../freeswitch-config/sip-profile';
import { reservePorts } from '../net/free-port';
import { CARRIER_PROFILE_NAME, renderCarrierDialplan, renderCarrierProfile } from './carrier-profile';

const LOOPBACK = '127.0.0.1';
/** Where our CI installs FreeSWITCH. */
export const DEFAULT_FREESWITCH_BINARY = '/opt/freeswitch/bin/freeswitch';
const RTP_RANGE_SIZE = 2000;
/** RTP ranges are drawn below Linux's ephemeral ports (32768 and up), where the reserved ESL and SIP ports lie. */
const RTP_LOWEST_PORT = 10000;
const RTP_HIGHEST_PORT = 32000;

/** The FreeSWITCH binary to run: `explicit`, else VOICEPLANE_FREESWITCH, else the default install; undefined when none is executable. */
export function findFreeSwitchBinary(explicit?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidate = explicit ?? env.VOICEPLANE_FREESWITCH ?? DEFAULT_FREESWITCH_BINARY;
  try {
    accessSync(candidate, constants.X_OK);
    return candidate;
  } catch {
    return undefined;
  }
}

export interface LocalFreeSwitchOptions {
  /** @default findFreeSwitchBinary() */
  readonly binary?: string;
  /** Private base directory (configuration, logs, db). @default a new temporary directory */
  readonly baseDir?: string;
  /** @default 'info' */
  readonly logLevel?: MediaServerSettingsInput['logLevel'];
  /** Bound on start-up until ESL answers and both SIP profiles run. @default 30 000 ms */
  readonly readyTimeoutMs?: number;
  /** How long a SIGTERM gets before SIGKILL. @default 10 000 ms */
  readonly stopTimeoutMs?: number;
  /** The media server's profile takes SRTP only, as with a voice connector that requires encryption. @default false */
  readonly srtp?: boolean;
  /** RTP ports (each SIP leg takes a pair). @default 2,000 ports drawn at random below the ephemeral range */
  readonly rtpPorts?: { readonly from: number; readonly to: number };
}

export interface LocalFreeSwitchPorts {
  readonly esl: number;
  /** The media server's SIP profile (what the SIP cluster sends to). */
  readonly sip: number;
  /** The carrier profile placing and answering local calls. */
  readonly carrierSip: number;
  readonly rtp: { readonly from: number; readonly to: number };
}

/**
 * A real FreeSWITCH on loopback running the media server's own rendered configuration (the files cloud-init
 * installs, every listener on 127.0.0.1 and free ports), plus a carrier SIP profile for local calls.
 * FreeSWITCH opens its event socket 1.5-7 s after start and can hang on a SIGTERM sent within a second of that,
 * so `start` waits until it is ready and `stop` gives it a grace period before SIGKILL.
 */
export class LocalFreeSwitch {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private readyAt = 0;
  /** A base directory made for this instance is removed when it stops; one given by the caller is the caller's. */
  private ownsBaseDir = false;

  private constructor(
    readonly binary: string,
    readonly baseDir: string,
    readonly ports: LocalFreeSwitchPorts,
    readonly password: string,
    private readonly options: LocalFreeSwitchOptions,
  ) {}

  static async start(options: LocalFreeSwitchOptions = {}): Promise<LocalFreeSwitch> {
    const binary = options.binary ?? findFreeSwitchBinary();
    if (binary === undefined) throw new Error(`no FreeSWITCH binary: install it under /opt/freeswitch or set VOICEPLANE_FREESWITCH`);
    const baseDir = options.baseDir ?? mkdtempSync(path.join(tmpdir(), 'voiceplane-freeswitch-'));
    const [esl, sip, carrierSip] = await reservePorts(3);
    const rtpFrom = RTP_LOWEST_PORT + 2 * Math.floor(Math.random() * ((RTP_HIGHEST_PORT - RTP_LOWEST_PORT - RTP_RANGE_SIZE) / 2));
    const ports = { esl, sip, carrierSip, rtp: options.rtpPorts ?? { from: rtpFrom, to: rtpFrom + RTP_RANGE_SIZE } };
    const freeswitch = new LocalFreeSwitch(binary, baseDir, ports, randomBytes(12).toString('hex'), options);
    freeswitch.ownsBaseDir = options.baseDir === undefined;
    freeswitch.writeConfiguration();
    await freeswitch.launch();
    return freeswitch;
  }

  get confDir(): string {
    return path.join(this.baseDir, 'conf');
  }

  get logFile(): string {
    return path.join(this.baseDir, 'log', LOG_FILE);
  }

  get eslOptions(): { host: string; port: number; password: string } {
    return { host: LOOPBACK, port: this.ports.esl, password: this.password };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last `lines` lines of FreeSWITCH's log file, for failure reports. */
  logTail(lines = 120): string {
    if (!existsSync(this.logFile)) return '(no log file)';
    return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }

  /** Graceful stop: SIGTERM (never within 2 s of readiness), SIGKILL after the stop timeout; then its files go. */
  async stop(): Promise<void> {
    await this.terminate();
    if (this.ownsBaseDir) rmSync(this.baseDir, { recursive: true, force: true });
  }

  private async terminate(): Promise<void> {
    const child = this.child;
    if (child === undefined || this.exited === undefined) return;
    const settle = this.readyAt + 2_000 - Date.now();
    if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), this.options.stopTimeoutMs ?? 10_000);
    await this.exited;
    clearTimeout(killer);
    this.child = undefined;
  }

  /** Crash: SIGKILL, nothing flushed beyond what FreeSWITCH already wrote. */
  async kill(): Promise<void> {
    if (this.child === undefined || this.exited === undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  /** Starts FreeSWITCH again on the same directory and ports (the core db, and so the route table, survives). */
  async restart(): Promise<void> {
    await this.terminate();
    await this.launch();
  }

  private writeConfiguration(): void {
    const files = {
      ...renderMediaServerConfig({
        mediaServerId: 'local',
        listenIp: LOOPBACK,
        sipPort: this.ports.sip,
        eslPort: this.ports.esl,
        rtpPorts: this.ports.rtp,
        eslAllowedCidrs: ['127.0.0.0/8'],
        sipAllowedCidrs: ['127.0.0.0/8'],
        logLevel: this.options.logLevel ?? 'info',
        // Every local call is two sessions here (the carrier's leg and the media server's), plus a far end if bridged.
        sessionsPerSecond: 1000,
        // The carrier, call control and the tests share this machine: FreeSWITCH must not refuse calls for their CPU.
        minIdleCpuPercent: 0,
        srtp: this.options.srtp ?? false,
      }),
      [HOST_VARIABLES_FILE]: renderHostVariables(LOOPBACK),
      [SECRETS_FILE]: renderSecretsInclude(this.password),
      [`sip_profiles/${CARRIER_PROFILE_NAME}.xml`]: renderCarrierProfile(LOOPBACK, this.ports.carrierSip),
      [`dialplan/${CARRIER_PROFILE_NAME}.xml`]: renderCarrierDialplan(),
    };
    for (const [relative, content] of Object.entries(files)) {
      const file = path.join(this.confDir, relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content, { mode: relative === SECRETS_FILE ? 0o600 : 0o644 });
    }
  }

  private async launch(): Promise<void> {
    const dir = (name: string) => path.join(this.baseDir, name);
    const moduleDir = path.join(path.dirname(path.dirname(this.binary)), 'lib/freeswitch/mod');
    const child = spawn(
      this.binary,
      // -np: normal scheduling priority. As root FreeSWITCH otherwise raises its own (nice -10, SCHED_FIFO) and, under
      // load, starves the call-control processes sharing this machine, which a media server in production never does.
      ['-nf', '-nc', '-nonat', '-np', '-base', this.baseDir, '-mod', moduleDir, '-conf', this.confDir, '-log', dir('log'), '-db', dir('db'), '-run', dir('run')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const stderr: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    this.child = child;
    // A FreeSWITCH left behind by a crashed parent would hold its ports and CPU: it dies with this process.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        process.off('exit', killOnExit);
        resolve();
      }),
    );
    const timeoutMs = this.options.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let lastProblem = 'not started';
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`FreeSWITCH exited during start-up (${child.exitCode ?? child.signalCode}): ${stderr.join('').trim().slice(-400)}\n${this.logTail(40)}`);
      }
      lastProblem = await this.readiness();
      if (lastProblem === '') {
        this.readyAt = Date.now();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.kill();
    throw new Error(`FreeSWITCH was not ready within ${timeoutMs} ms (${lastProblem})\n${this.logTail(40)}`);
  }

  /** '' once the event socket authenticates and both SIP profiles run; else what is missing. */
  private async readiness(): Promise<string> {
    let client: EslClient | undefined;
    try {
      client = await EslClient.connect({ ...this.eslOptions, connectTimeoutMs: 1_000, commandTimeoutMs: 2_000 });
      const status = await client.api('sofia status');
      const missing = [SIP_PROFILE_NAME, CARRIER_PROFILE_NAME].filter((profile) => !new RegExp(`^\\s*${profile}\\s+profile\\s.*RUNNING`, 'm').test(status));
      return missing.length === 0 ? '' : `SIP profile ${missing.join(', ')} not running`;
    } catch (error) {
      return `event socket: ${(error as Error).message}`;
    } finally {
      await client?.close().catch(() => undefined);
    }
  }
}

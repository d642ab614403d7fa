import { ChildProcess, spawn } from 'child_process';
import { existsSync, mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { waitFor } from '../wait-for';
import { udpPortFree } from './free-ports';
import { LOOPBACK } from './kamailio-node';
import { ShortMessage, readShortMessages } from './short-messages';

const SCENARIOS = path.join(__dirname, 'scenarios');
/** Every SIPp quits by itself after this long, even if a test forgets it. */
const SAFETY_TIMEOUT_SECONDS = 240;

/** How a SIPp media server answers: 'answers' takes calls and OPTIONS; 'paused' answers OPTIONS 503, as a paused FreeSWITCH does. */
export type MediaServerBehaviour = 'answers' | 'paused';

class SippProcess {
  private exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve((this.exitCode = code))));
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

function spawnSipp(binary: string, args: readonly string[]): SippProcess {
  return new SippProcess(spawn(binary, [...args, '-nostdin', '-timeout', `${SAFETY_TIMEOUT_SECONDS}s`], { stdio: 'ignore' }));
}

/** A SIPp UAS standing in for a media server on 127.0.0.1:`port`, logging every message it sends or receives. */
export class SippMediaServer {
  private constructor(
    readonly port: number,
    private readonly process: SippProcess,
    private readonly logFile: string,
  ) {}

  static async start(binary: string, port: number, behaviour: MediaServerBehaviour): Promise<SippMediaServer> {
    const directory = mkdtempSync(path.join(tmpdir(), 'voiceplane-sipp-ms-'));
    const logFile = path.join(directory, 'messages.log');
    const scenario = path.join(SCENARIOS, behaviour === 'answers' ? 'media-server.xml' : 'paused-media-server.xml');
    const process = spawnSipp(binary, [
      '-sf', scenario, '-i', LOOPBACK, '-p', String(port), '-bind_local',
      // -aa answers out-of-dialog OPTIONS with 200, as a healthy FreeSWITCH does.
      ...(behaviour === 'answers' ? ['-aa'] : []),
      '-trace_shortmsg', '-shortmessage_file', logFile, '-trace_err', '-error_file', path.join(directory, 'errors.log'),
    ]);
    const server = new SippMediaServer(port, process, logFile);
    await waitFor(async () => !process.running || !(await udpPortFree(port)), { timeoutMs: 10_000, message: `SIPp media server listening on ${port}` });
    if (!process.running) throw new Error(`SIPp media server on port ${port} exited at start`);
    return server;
  }

  messages(): ShortMessage[] {
    return readShortMessages(this.logFile);
  }

  /** Stops it the hard way: no BYE, no reply, the port closes, like a crashed media server. */
  kill(): Promise<void> {
    return this.process.kill();
  }
}

export interface CallerRun {
  readonly kamailioPort: number;
  readonly localPort: number;
  readonly calls: number;
  readonly callsPerSecond: number;
  /** How long each answered call lasts before the caller hangs up. */
  readonly holdMs: number;
  /**
   * Address the caller sends from.
   * @default 127.0.0.1
   */
  readonly localAddress?: string;
}

export interface CallerResult {
  readonly exitCode: number | null;
  readonly successful: number;
  readonly failed: number;
  /** SIPp's account of the failures, for assertion messages. */
  readonly errors: string;
}

/** A SIPp UAC placing `calls` calls through Kamailio, then quitting; `result` settles when it has. */
export class SippCaller {
  private constructor(
    private readonly process: SippProcess,
    readonly result: Promise<CallerResult>,
  ) {}

  static start(binary: string, run: CallerRun): SippCaller {
    const directory = mkdtempSync(path.join(tmpdir(), 'voiceplane-sipp-caller-'));
    const statFile = path.join(directory, 'stats.csv');
    const errorFile = path.join(directory, 'errors.log');
    const process = spawnSipp(binary, [
      `${LOOPBACK}:${run.kamailioPort}`, '-sf', path.join(SCENARIOS, 'caller.xml'), '-i', run.localAddress ?? LOOPBACK, '-p', String(run.localPort), '-bind_local',
      '-m', String(run.calls), '-r', String(run.callsPerSecond), '-d', String(run.holdMs),
      '-trace_stat', '-stf', statFile, '-fd', '1', '-trace_err', '-error_file', errorFile,
    ]);
    const result = process.exited.then((exitCode) => ({ exitCode, ...finalCounts(statFile), errors: existsSync(errorFile) ? readFileSync(errorFile, 'utf8').slice(0, 2_000) : '' }));
    return new SippCaller(process, result);
  }

  kill(): Promise<void> {
    return this.process.kill();
  }
}

/** Cumulative successful and failed calls from the last line of SIPp's statistics file. */
function finalCounts(statFile: string): { successful: number; failed: number } {
  const lines = existsSync(statFile) ? readFileSync(statFile, 'utf8').trim().split('\n') : [];
  if (lines.length < 2) return { successful: 0, failed: 0 };
  const header = lines[0].split(';');
  const last = lines[lines.length - 1].split(';');
  const column = (name: string) => Number(last[header.indexOf(name)]);
  return { successful: column('SuccessfulCall(C)'), failed: column('FailedCall(C)') };
}

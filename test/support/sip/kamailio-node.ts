import { ChildProcess, spawn } from 'child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { httpJsonRpcTransport } from '../../../runtime/commands/sip-command';
import { DISPATCHER_LIST_FILE, KAMAILIO_CONFIG_FILE, KamailioRpc, KamailioSettingsInput, SipSite, nodeEnvironmentVariables, renderSipConfigFiles } from '../../../runtime/sip';
import { waitFor } from '../wait-for';

export const LOOPBACK = '127.0.0.1';

/**
 * The per-node environment of a test node: everything on 127.0.0.1, RPC only from there, SIP from
 * `allowedSourceCidrs` (by default 127.0.0.1 alone; other 127.x addresses stand in for outsiders).
 */
export function loopbackNodeEnvironment(allowedSourceCidrs: readonly string[] = [`${LOOPBACK}/32`]): Record<string, string> {
  return nodeEnvironmentVariables({ nodeAddress: LOOPBACK, publicAddress: LOOPBACK, rpcAllowedCidrs: [`${LOOPBACK}/32`], allowedSourceCidrs });
}

export interface RenderedNode {
  readonly directory: string;
  readonly configFile: string;
}

/** Writes the rendered files of `site` to a fresh directory, the dispatcher list and run directory inside it. */
export function writeNodeFiles(site: SipSite, settings: KamailioSettingsInput = {}): RenderedNode {
  const directory = mkdtempSync(path.join(tmpdir(), 'voiceplane-kamailio-'));
  const runDirectory = path.join(directory, 'run');
  mkdirSync(runDirectory);
  const files = renderSipConfigFiles(site, { ...settings, dispatcherListPath: path.join(directory, DISPATCHER_LIST_FILE), runDirectory });
  writeFileSync(path.join(directory, DISPATCHER_LIST_FILE), files[DISPATCHER_LIST_FILE]);
  writeFileSync(path.join(directory, KAMAILIO_CONFIG_FILE), files[KAMAILIO_CONFIG_FILE]);
  return { directory, configFile: path.join(directory, KAMAILIO_CONFIG_FILE) };
}

/** A Kamailio started in the foreground on loopback; `stop()` ends it and its children. */
export class KamailioNode {
  readonly rpc: KamailioRpc;
  readonly rpcEndpoint: string;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly process: ChildProcess,
    private readonly logFile: string,
    rpcPort: number,
  ) {
    this.rpcEndpoint = `${LOOPBACK}:${rpcPort}`;
    this.rpc = new KamailioRpc(this.rpcEndpoint, httpJsonRpcTransport(this.rpcEndpoint));
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(void (this.exitCode = code))));
  }

  /** Starts Kamailio with the files of `site` and waits until its RPC interface answers. */
  static async start(binary: string, site: SipSite, settings: KamailioSettingsInput & { rpcPort: number }, allowedSourceCidrs?: readonly string[]): Promise<KamailioNode> {
    const node = writeNodeFiles(site, settings);
    const logFile = path.join(node.directory, 'kamailio.log');
    const log = openSync(logFile, 'w');
    // -DD: stay in the foreground (children still fork) so the test owns the process; -E: log to stderr.
    const child = spawn(binary, ['-f', node.configFile, '-DD', '-E', '-m', '32', '-M', '4'], {
      env: { PATH: process.env.PATH, ...loopbackNodeEnvironment(allowedSourceCidrs) },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const kamailio = new KamailioNode(child, logFile, settings.rpcPort);
    try {
      await waitFor(
        async () => {
          if (kamailio.exitCode !== undefined) throw new Error(`kamailio exited with ${kamailio.exitCode}:\n${kamailio.logTail()}`);
          return kamailio.rpc.call('core.version').then(
            () => true,
            () => false,
          );
        },
        { timeoutMs: 15_000, intervalMs: 50, message: 'kamailio RPC answers' },
      );
    } catch (error) {
      await kamailio.stop();
      throw error;
    }
    return kamailio;
  }

  logTail(lines = 30): string {
    return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }

  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.process.kill('SIGTERM');
    const killer = setTimeout(() => this.process.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(killer);
  }
}

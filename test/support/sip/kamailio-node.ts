import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { httpJsonRpcTransport } from '../../../runtime/commands/sip-command';
import {
  DISPATCHER_LIST_FILE,
  KAMAILIO_CONFIG_FILE,
  KamailioRpc,
  KamailioSettingsInput,
  SipSite,
  nodeEnvironmentVariables,
  renderRpcTokenInclude,
  renderSipConfigFiles,
} from '../../../runtime/sip';
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
  /** The node's RPC bearer token, as the boot would have written it from the site's secret. */
  readonly rpcToken: string;
  /** A file holding the token, what `sip drain --rpc-token-file` reads. */
  readonly rpcTokenFile: string;
}

/**
 * Writes the rendered files of `site` to a fresh directory, the dispatcher list, run directory and the include with a
 * fresh RPC token inside it.
 */
export function writeNodeFiles(site: SipSite, settings: KamailioSettingsInput = {}): RenderedNode {
  const directory = mkdtempSync(path.join(tmpdir(), 'voiceplane-kamailio-'));
  const runDirectory = path.join(directory, 'run');
  mkdirSync(runDirectory);
  const rpcTokenPath = path.join(directory, 'rpc-token.cfg');
  const files = renderSipConfigFiles(site, { ...settings, dispatcherListPath: path.join(directory, DISPATCHER_LIST_FILE), runDirectory, rpcTokenPath });
  writeFileSync(path.join(directory, DISPATCHER_LIST_FILE), files[DISPATCHER_LIST_FILE]);
  writeFileSync(path.join(directory, KAMAILIO_CONFIG_FILE), files[KAMAILIO_CONFIG_FILE]);
  const rpcToken = randomBytes(32).toString('base64url');
  writeFileSync(rpcTokenPath, renderRpcTokenInclude(rpcToken), { mode: 0o600 });
  const rpcTokenFile = path.join(directory, 'rpc-token');
  writeFileSync(rpcTokenFile, `${rpcToken}\n`, { mode: 0o600 });
  return { directory, configFile: path.join(directory, KAMAILIO_CONFIG_FILE), rpcToken, rpcTokenFile };
}

/** A Kamailio started in the foreground on loopback; `stop()` ends it and its children. */
export class KamailioNode {
  /** The node's RPC, authenticated with its token. */
  readonly rpc: KamailioRpc;
  readonly rpcEndpoint: string;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly process: ChildProcess,
    private readonly logFile: string,
    rpcPort: number,
    /** The files the node runs with, its RPC token among them. */
    readonly files: RenderedNode,
  ) {
    this.rpcEndpoint = `${LOOPBACK}:${rpcPort}`;
    this.rpc = new KamailioRpc(this.rpcEndpoint, httpJsonRpcTransport(this.rpcEndpoint, files.rpcToken));
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
    const kamailio = new KamailioNode(child, logFile, settings.rpcPort, node);
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

import { readFileSync } from 'fs';
import { request } from 'http';
import { z } from 'zod';
import {
  JsonRpcTransport,
  KAMAILIO_RPC_PATH,
  KamailioRpc,
  MediaServerSipState,
  SipError,
  drainMediaServer,
  readMediaServerState,
  renderSipConfigFiles,
  rpcAuthorization,
  rpcTokenSchema,
  sipSiteFromTopology,
  undrainMediaServer,
} from '../sip';
import { MediaServerClient } from '../media-server';
import { formatHostPort, hostPortSchema, splitHostPort } from '../net/host-port';
import { CliError, UsageError } from './cli-error';
import { DEFAULT_TOPOLOGY, renderFromTopology, writeConfigFiles } from './config-files';
import { EslTarget, parseEslTarget } from './esl-target';
import { withMediaServer } from './media-server-session';
import { parseOptions } from './option-schema';
import { Output, formatTable } from './output';
import { SIP_RPC_TOKEN_VARIABLE } from './secret-variables';

/** Option values of `voiceplane sip ...` as util.parseArgs returns them. */
export interface SipCommand {
  /** The word after `sip`. */
  readonly action: SipAction;
  readonly site?: string;
  readonly mediaServer?: string;
  readonly topology?: string;
  readonly out?: string;
  readonly rpc?: readonly string[];
  /** A file holding the RPC bearer token of the site's SIP nodes (`--rpc-token-file`). */
  readonly rpcTokenFile?: string;
  /** The RPC bearer token from the environment ({@link SIP_RPC_TOKEN_VARIABLE}). */
  readonly rpcToken?: string;
  readonly esl?: string;
  /** ESL password, from --password or the environment. */
  readonly password?: string;
  readonly json?: boolean;
}

export type SipAction = 'config' | 'drain' | 'undrain' | 'status';
/** Bound on one RPC exchange with a Kamailio node. */
export const SIP_RPC_TIMEOUT_MS = 5_000;

const id = (flag: string, what: string) =>
  z.string({ error: `${flag}: required (${what})` }).regex(/^[a-z][a-z0-9-]{0,30}$/, `${flag}: not a ${what} (lowercase letters, digits and dashes)`);

const rpcEndpoint = hostPortSchema({ syntax: '--rpc: expected HOST:PORT', range: '--rpc: port out of range' });

const configSchema = z.object({
  site: id('--site', 'site id'),
  out: z.string({ error: '--out: required (directory to write kamailio.cfg and dispatcher.list to)' }).min(1, '--out: empty directory name'),
  topology: z.string().min(1, '--topology: empty file name').default(DEFAULT_TOPOLOGY),
});

const maintenanceSchema = z.object({
  site: id('--site', 'site id'),
  mediaServer: id('--media-server', 'media server id'),
  rpc: z.array(rpcEndpoint, { error: "--rpc: required (HOST:PORT of a Kamailio node's RPC socket; repeat it for every node of the site)" }).min(1),
});

/** `voiceplane sip config|drain|undrain|status`: the site's Kamailio configuration and media-server maintenance. */
export async function runSipCommand(command: SipCommand, output: Output): Promise<void> {
  const { action } = command;
  if (action === 'config') {
    writeSipConfig(parseOptions(configSchema, command), output);
    return;
  }
  const options = parseOptions(maintenanceSchema, command);
  const token = rpcToken(command);
  const eslTarget = command.esl === undefined ? undefined : parseEslTarget(command.esl, command.password);
  const nodes = options.rpc.map(formatHostPort).map((endpoint) => new KamailioRpc(endpoint, httpJsonRpcTransport(endpoint, token)));
  const target = { siteId: options.site, mediaServerId: options.mediaServer };
  const operation = { drain: drainMediaServer, undrain: undrainMediaServer, status: readMediaServerState }[action];
  const json = command.json ?? false;
  if (!eslTarget) {
    printState(action, await sipOperation(() => operation(nodes, target)), undefined, json, output);
    return;
  }
  // Connected before the SIP change, so an unreachable media server leaves everything as it was.
  await withMediaServer(eslTarget, async (client) => {
    const state = await sipOperation(() => operation(nodes, target));
    printState(action, state, await countActiveCalls(client, eslTarget), json, output);
  });
}

/** The RPC bearer token from exactly one of `--rpc-token-file` and the environment; never echoed in a message. */
function rpcToken(command: SipCommand): string {
  const file = command.rpcTokenFile;
  if (file !== undefined && command.rpcToken !== undefined) throw new UsageError(`--rpc-token-file: give it or ${SIP_RPC_TOKEN_VARIABLE}, not both`);
  if (file === undefined && command.rpcToken === undefined) {
    throw new UsageError(`--rpc-token-file: required (a file holding the RPC token of the site's SIP nodes), or set ${SIP_RPC_TOKEN_VARIABLE}`);
  }
  const [source, text] = file === undefined ? [SIP_RPC_TOKEN_VARIABLE, command.rpcToken!] : ['--rpc-token-file', readTokenFile(file)];
  const token = rpcTokenSchema.safeParse(text.replace(/\r?\n$/, ''));
  if (!token.success) throw new UsageError(`${source}: ${token.error.issues[0].message}`);
  return token.data;
}

function readTokenFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--rpc-token-file: cannot read ${file}: ${(error as Error).message}`);
  }
}

/** The count only informs: failing to read it must not make a SIP change that succeeded look failed. */
async function countActiveCalls(client: MediaServerClient, esl: EslTarget): Promise<ActiveCallCount> {
  try {
    return { esl, total: (await client.activeCalls()).total };
  } catch (error) {
    return { esl, unavailable: (error as Error).message };
  }
}

async function sipOperation<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SipError) throw new CliError(error.message);
    throw error;
  }
}

function writeSipConfig(options: z.output<typeof configSchema>, output: Output): void {
  const files = renderFromTopology(options.topology, (topology) => ({ ...renderSipConfigFiles(sipSiteFromTopology(topology, options.site)) }), SipError);
  writeConfigFiles(options.out, files, output);
}

/** POSTs JSON-RPC documents to a node's RPC socket (HOST:PORT) with the site's bearer `token`, one connection per request. */
export function httpJsonRpcTransport(endpoint: string, token: string): JsonRpcTransport {
  const target = splitHostPort(endpoint);
  if (target === undefined) throw new SipError(`Kamailio RPC endpoint "${endpoint}" is not HOST:PORT`);
  const { host, port } = target;
  return (body) =>
    new Promise((resolve, reject) => {
      const httpRequest = request(
        { host, port, path: KAMAILIO_RPC_PATH, method: 'POST', agent: false, timeout: SIP_RPC_TIMEOUT_MS, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: rpcAuthorization(token) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => reject(new SipError(`Kamailio RPC at ${endpoint}: ${error.message}`)));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (response.statusCode === 200) resolve(text);
            else if (response.statusCode === 401) reject(new SipError(`authentication failed at SIP node ${endpoint}: wrong RPC token`));
            else reject(new SipError(`Kamailio RPC at ${endpoint} refused the request: HTTP ${response.statusCode} ${text.trim()}`));
          });
        },
      );
      httpRequest.on('timeout', () => httpRequest.destroy(new Error(`no answer within ${SIP_RPC_TIMEOUT_MS} ms`)));
      httpRequest.on('error', (error) => reject(new SipError(`cannot reach Kamailio RPC at ${endpoint}: ${error.message}`)));
      httpRequest.end(body);
    });
}

const SUMMARY = {
  drain: 'drained: no new calls; calls in progress continue',
  undrain: 'undrained: takes new calls again once it answers the OPTIONS probes',
  status: undefined,
} as const;

/** Calls in progress on the media server, counted by its FreeSWITCH, or why they could not be counted. */
type ActiveCallCount = { readonly esl: EslTarget } & ({ readonly total: number } | { readonly unavailable: string });

function printState(action: keyof typeof SUMMARY, state: MediaServerSipState, calls: ActiveCallCount | undefined, json: boolean, output: Output): void {
  if (json) {
    const unavailable = calls && 'unavailable' in calls ? { activeCallsUnavailable: calls.unavailable } : {};
    const activeCalls = calls && 'total' in calls ? calls.total : null;
    output.line(JSON.stringify({ site: state.siteId, mediaServer: state.mediaServerId, uri: state.uri, nodes: state.nodes, activeCalls, ...unavailable }));
    return;
  }
  output.line(`media server ${state.mediaServerId} of site ${state.siteId} (${state.uri})${SUMMARY[action] ? `: ${SUMMARY[action]}` : ''}`);
  formatTable(['NODE', 'STATE', 'PROBING'], state.nodes.map((node) => [node.node, node.state, node.probing ? 'yes' : 'no'])).forEach((line) => output.line(line));
  if (calls) output.line(`active calls: ${'total' in calls ? calls.total : `unavailable (${calls.unavailable})`} (FreeSWITCH at ${calls.esl.host}:${calls.esl.port})`);
}

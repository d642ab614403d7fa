import type { KeyObject } from 'crypto';
import { accessSync, constants, mkdirSync, readFileSync } from 'fs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { errorMessage, jsonLinesLogger } from '../shared/logger';
import { DynamoCallArchive } from '../cds/store/call-archive';
import { systemClock } from '../cds/clock/cds-clock';
import { CdsNode, DEFAULT_TIMERS } from '../cds/cds-node';
import { parsePeerPrivateKey, parsePeerPublicKey } from '../cds/network/peer-identity';
import { createDocumentClient } from '../dynamodb/document-client';
import { ensureTable, tableExists } from '../dynamodb/tables';
import { DynamoCdsStore } from '../cds/store/dynamo-cds-store';
import { CliError, UsageError } from './cli-error';
import { openEmbeddedDatabase, type EmbeddedDatabase } from './embedded-database';
import { AWS_DYNAMODB, parseCdsServeOptions as parseServeOptions, type CdsServeOptions, type CdsServeRawOptions } from './cds-serve-options';
import { CDS_LOCAL_TOKEN_VARIABLE, CDS_PEER_KEY_VARIABLE } from './secret-variables';
import { localTokenProblem } from '../cds/api/local-token';
import type { Output } from './output';

export type { CdsServeRawOptions } from './cds-serve-options';

/** Validates the raw option values (timers default to the node's); the first problem as one line naming its flag. */
export function parseCdsServeOptions(raw: CdsServeRawOptions): CdsServeOptions {
  return parseServeOptions(raw, DEFAULT_TIMERS);
}

/**
 * A secret given as a file (`fileFlag`) or in the environment (`variable`): its text, trimmed, and the name to
 * blame in a refusal. The value itself never appears in a message.
 */
function readSecret(file: string | undefined, fromEnvironment: string | undefined, fileFlag: string, variable: string): { text: string; source: string } {
  if (file === undefined) return { text: (fromEnvironment ?? '').trim(), source: variable };
  try {
    return { text: readFileSync(file, 'utf8').trim(), source: fileFlag };
  } catch (error) {
    throw new UsageError(`${fileFlag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`);
  }
}

/** This site's private key, from --peer-key-file or the environment. */
function readPrivateKey(options: CdsServeOptions): KeyObject {
  const { text, source } = readSecret(options['peer-key-file'], options.peerKey, '--peer-key-file', CDS_PEER_KEY_VARIABLE);
  const key = parsePeerPrivateKey(text);
  if (typeof key === 'string') throw new UsageError(`${source}: the key ${key}`);
  return key;
}

/** The admitted peers' public keys (validated by the option schema). */
function peerPublicKeys(options: CdsServeOptions): Map<string, KeyObject> {
  return new Map(options['peer-public-key'].map(({ id, publicKey }) => [id, parsePeerPublicKey(publicKey) as KeyObject]));
}

/** The site's local API token, from --local-token-file or the environment. */
function readLocalToken(options: CdsServeOptions): string {
  const { text, source } = readSecret(options['local-token-file'], options.localToken, '--local-token-file', CDS_LOCAL_TOKEN_VARIABLE);
  const problem = localTokenProblem(text);
  if (problem) throw new UsageError(`${source}: the token ${problem}`);
  return text;
}

/** Creates the directory if need be: dynalite never answers (nor closes) when it cannot open its database there. */
function prepareStateDir(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new UsageError(`--state-dir: cannot use ${dir} (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)})`);
  }
  return dir;
}

/** Startup gives up on DynamoDB after this: the SDK's own retries of an endpoint that does not answer last far longer. */
const TABLE_CHECK_TIMEOUT_MS = 10_000;

/**
 * `voiceplane cds serve`: runs a CDS node until `stop` aborts. Without --dynamodb-endpoint it starts an
 * embedded dynalite (in memory, or on disk in --state-dir so that a restarted node resumes) and creates its
 * tables; with one (`aws`: the region's own) it creates missing tables only with --create-tables. A node that
 * cannot start fails within seconds with one line naming what failed, having released what it opened.
 */
export async function runCdsServeCommand(raw: CdsServeRawOptions, output: Output, stop?: AbortSignal): Promise<void> {
  const options = parseCdsServeOptions(raw);
  const privateKey = readPrivateKey(options);
  const localToken = readLocalToken(options);
  const table = options.table ?? `cds-${options.site}`;
  const archive = options['archive-table'] ?? { name: 'cds-archive' };
  const logger = jsonLinesLogger({ write: (line) => output.line(line.trimEnd()) });
  const given = options['dynamodb-endpoint'];
  let embedded: EmbeddedDatabase | undefined;
  let client: DynamoDBDocumentClient | undefined;
  let archiveClient: DynamoDBDocumentClient | undefined;
  let node: CdsNode | undefined;
  try {
    if (given === undefined) embedded = await openEmbeddedDatabase({ path: prepareStateDir(options['state-dir']) });
    const endpoint = embedded?.endpoint ?? (given === AWS_DYNAMODB ? undefined : given);
    client = embedded?.client ?? createDocumentClient({ endpoint });
    // An archive given by ARN may be in another region (the data center's): it gets a client of that region.
    archiveClient = archive.region === undefined ? client : createDocumentClient({ endpoint, region: archive.region });
    const ready = await prepareTables(
      [
        { client, name: table, where: endpoint ?? (await awsEndpointName(client)) },
        { client: archiveClient, name: archive.name, where: endpoint ?? (await awsEndpointName(archiveClient)) },
      ],
      { create: embedded !== undefined || options['create-tables'], stop },
    );
    if (!ready) return;
    node = await CdsNode.start({
      site: options.site,
      host: options.listen.host,
      port: options.listen.port,
      peerHost: options['peer-listen'].host,
      peerPort: options['peer-listen'].port,
      localToken,
      peers: new Map(options.peer.map((peer) => [peer.id, peer.urls])),
      privateKey,
      peerPublicKeys: peerPublicKeys(options),
      store: new DynamoCdsStore({
        client,
        tableName: table,
        clock: systemClock,
        retentionMs: 7 * 86_400_000,
        onInvalidItem: (key, problem) => logger.error('skipping a malformed item', { key, problem }),
        onCompactionFailed: (error) => logger.warn('could not compact the entry journal; trying again', { error: errorMessage(error) }),
      }),
      archive: new DynamoCallArchive(archiveClient, archive.name),
      timers: { heartbeatMs: options['heartbeat-ms'], expiryMs: options['expiry-ms'], endGraceMs: options['end-grace-ms'] },
      logger,
      writeMetrics: (line) => output.line(line.trimEnd()),
      mediaServers: options['media-server'].map((target) => ({ ...target, password: options.password ?? '' })),
    });
    logger.info('listening', { site: options.site, localApi: `http://${options.listen.host}:${node.port}`, peerApi: `http://${options['peer-listen'].host}:${node.peerPort}` });
    const fenced = await Promise.race([node.fenced, stopped(stop)]);
    // Exiting non-zero makes ECS replace a zombie task rather than leave it running beside the newer node.
    if (fenced) throw new CliError(fenced.message);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cds serve: ${errorMessage(error)}`);
  } finally {
    await node?.stop();
    if (archiveClient !== client) archiveClient?.destroy();
    if (embedded) await embedded.close();
    else client?.destroy();
  }
}

/**
 * Checks (or creates) the tables within TABLE_CHECK_TIMEOUT_MS; false if `stop` aborted meanwhile. A table
 * that is missing or cannot be checked is a CliError naming it and `where` it was looked for.
 */
async function prepareTables(
  tables: readonly { readonly client: DynamoDBDocumentClient; readonly name: string; readonly where: string }[],
  { create, stop }: { create: boolean; stop?: AbortSignal },
): Promise<boolean> {
  const deadline = AbortSignal.timeout(TABLE_CHECK_TIMEOUT_MS);
  const signal = stop ? AbortSignal.any([deadline, stop]) : deadline;
  for (const { client, name, where } of tables) {
    let exists: boolean;
    try {
      exists = await untilAborted(create ? ensureTable(client, name, signal).then(() => true) : tableExists(client, name, signal), signal);
    } catch (error) {
      if (stop?.aborted) return false;
      const reason = deadline.aborted ? `no answer within ${TABLE_CHECK_TIMEOUT_MS} ms` : errorMessage(error);
      throw new CliError(`cannot check table ${name} at ${where}: ${reason}`);
    }
    if (!exists) throw new CliError(`table ${name} does not exist at ${where} (create it, or pass --create-tables)`);
  }
  return true;
}

/** How an error names the region's DynamoDB (the SDK may still take its address from AWS_ENDPOINT_URL_DYNAMODB). */
async function awsEndpointName(client: DynamoDBDocumentClient): Promise<string> {
  const region = await client.config.region().catch(() => undefined);
  return region ? `DynamoDB in ${region}` : 'DynamoDB (no region: set AWS_REGION)';
}

/** Settles like `work`, or rejects once `signal` aborts (the SDK does not give up while it waits to retry). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Resolves once `stop` aborts; never without one. */
function stopped(stop: AbortSignal | undefined): Promise<undefined> {
  return new Promise((resolve) => {
    if (stop?.aborted) resolve(undefined);
    else stop?.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}

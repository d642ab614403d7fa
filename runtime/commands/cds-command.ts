import { accessSync, constants, mkdirSync, readFileSync } from 'fs';
import { z } from 'zod';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { errorMessage, jsonLinesLogger } from '../call-control/logger';
import { DynamoCallArchive } from '../cds/call-archive';
import { systemClock } from '../cds/cds-clock';
import { CdsNode, DEFAULT_TIMERS } from '../cds/cds-node';
import { createDocumentClient } from '../dynamodb/document-client';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../dynamodb/embedded-dynamodb';
import { ensureTable, tableExists } from '../dynamodb/tables';
import { tableReferenceSchema } from '../dynamodb/table-reference';
import { DynamoCdsStore } from '../cds/dynamo-cds-store';
import { siteIdSchema } from '../cds/identifiers';
import { CliError, UsageError } from './cli-error';
import type { Output } from './output';

/** The `util.parseArgs` options of `voiceplane cds serve` (merge them into the CLI's option table). */
export const CDS_SERVE_OPTIONS = {
  site: { type: 'string' },
  listen: { type: 'string' },
  peer: { type: 'string', multiple: true },
  'peer-key-file': { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  table: { type: 'string' },
  'archive-table': { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'expiry-ms': { type: 'string' },
  'end-grace-ms': { type: 'string' },
  'create-tables': { type: 'boolean', default: false },
  'state-dir': { type: 'string' },
  'media-server': { type: 'string', multiple: true },
  password: { type: 'string' },
} as const;

/**
 * The raw values parseArgs produced for CDS_SERVE_OPTIONS. `password` may come from the environment instead,
 * and so may the peer key (`peerKey`, from VOICEPLANE_CDS_PEER_KEY: ECS injects secrets as variables).
 */
export interface CdsServeRawOptions {
  readonly peerKey?: string;
  readonly site?: string;
  readonly listen?: string;
  readonly peer?: readonly string[];
  readonly 'peer-key-file'?: string;
  readonly 'dynamodb-endpoint'?: string;
  readonly table?: string;
  readonly 'archive-table'?: string;
  readonly 'heartbeat-ms'?: string;
  readonly 'expiry-ms'?: string;
  readonly 'end-grace-ms'?: string;
  readonly 'create-tables'?: boolean;
  readonly 'state-dir'?: string;
  readonly 'media-server'?: readonly string[];
  readonly password?: string;
}

/** Rotating the shared key means restarting every node; a short key is refused rather than weakening HMAC. */
const MIN_PEER_KEY_BYTES = 32;

const required = (what: string) => z.string({ error: (issue) => (issue.input === undefined ? `required (${what})` : 'must be text') });
const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/, 'must be HOST:PORT')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65535, 'port must be 0-65535')
  .transform((value) => ({ host: value.slice(0, value.lastIndexOf(':')), port: Number(value.slice(value.lastIndexOf(':') + 1)) }));
const httpUrl = z.string().refine((value) => /^https?:\/\/[^\s/]+/.test(value) && URL.canParse(value), 'must be an http(s) URL');
/** `aws`: the region's own endpoint, reached with the credentials of the task role. */
const AWS_DYNAMODB = 'aws';
const dynamoDbEndpoint = z.string().refine((value) => value === AWS_DYNAMODB || httpUrl.safeParse(value).success, `must be ${AWS_DYNAMODB} or an http(s) URL`);
const milliseconds = (fallback: number) =>
  z
    .string()
    .regex(/^[0-9]{1,9}$/, 'must be a whole number of milliseconds')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1'))
    .default(fallback);
const tableName = z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be 3-255 letters, digits, _ . -');
/** `ID=URL[,URL...]`: a peer site reached through one load balancer address per availability zone. */
const peerSpec = z
  .string()
  .regex(/^[^=]+=[^,]+(,[^,]+)*$/, 'must be ID=URL[,URL...]')
  .transform((value) => ({ id: value.slice(0, value.indexOf('=')), urls: value.slice(value.indexOf('=') + 1).split(',') }))
  .pipe(z.object({ id: siteIdSchema, urls: z.array(httpUrl) }));

const schema = z
  .object({
    site: required('this site id').pipe(siteIdSchema),
    listen: required('HOST:PORT to listen on').pipe(hostPort),
    peer: z.array(peerSpec).default([]),
    peerKey: z.string().optional(),
    'peer-key-file': z.string().optional(),
    'dynamodb-endpoint': dynamoDbEndpoint.optional(),
    table: tableName.optional(),
    'archive-table': tableReferenceSchema.optional(),
    'heartbeat-ms': milliseconds(DEFAULT_TIMERS.heartbeatMs),
    'expiry-ms': milliseconds(DEFAULT_TIMERS.expiryMs),
    'end-grace-ms': milliseconds(DEFAULT_TIMERS.endGraceMs),
    'create-tables': z.boolean().default(false),
    'state-dir': z.string().min(1, 'must name a directory').optional(),
    'media-server': z.array(hostPort).default([]),
    password: z.string().optional(),
  })
  .superRefine((options, ctx) => {
    const ids = options.peer.map((peer) => peer.id);
    ids.forEach((id, index) => {
      if (id === options.site) ctx.addIssue({ code: 'custom', path: ['peer'], message: `"${id}" is this site` });
      else if (ids.indexOf(id) !== index) ctx.addIssue({ code: 'custom', path: ['peer'], message: `"${id}" is given twice` });
    });
    if (options['expiry-ms'] <= 2 * options['heartbeat-ms']) {
      ctx.addIssue({ code: 'custom', path: ['expiry-ms'], message: 'must exceed two heartbeats (an outage is reported after two missed heartbeats)' });
    }
    if ((options['peer-key-file'] === undefined) === (options.peerKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['peer-key-file'], message: 'give exactly one of --peer-key-file and VOICEPLANE_CDS_PEER_KEY (the shared peer key)' });
    }
    if (options['state-dir'] !== undefined && options['dynamodb-endpoint'] !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['state-dir'], message: 'keeps the embedded DynamoDB on disk; leave it out with --dynamodb-endpoint' });
    }
    if (options['media-server'].length > 0 && !options.password) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'required with --media-server (the event socket password)' });
    }
  });

export type CdsServeOptions = z.output<typeof schema>;

/** Validates the raw option values; the first problem as one line naming its flag. */
export function parseCdsServeOptions(raw: CdsServeRawOptions): CdsServeOptions {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = String(issue?.path[0] ?? 'options');
  throw new UsageError(`${field === 'peerKey' ? 'VOICEPLANE_CDS_PEER_KEY' : `--${field}`}: ${issue?.message ?? 'invalid'}`);
}

function readPeerKey(options: CdsServeOptions): Buffer {
  const file = options['peer-key-file'];
  let text = options.peerKey ?? '';
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--peer-key-file: cannot read ${file}: ${(error as Error).message}`);
    }
  }
  const key = Buffer.from(text.trim());
  if (key.length < MIN_PEER_KEY_BYTES) throw new UsageError(`${file === undefined ? 'VOICEPLANE_CDS_PEER_KEY' : '--peer-key-file'}: the key is shorter than ${MIN_PEER_KEY_BYTES} bytes`);
  return key;
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
  const peerKey = readPeerKey(options);
  const table = options.table ?? `cds-${options.site}`;
  const archive = options['archive-table'] ?? { name: 'cds-archive' };
  const logger = jsonLinesLogger({ write: (line) => output.line(line.trimEnd()) });
  const given = options['dynamodb-endpoint'];
  let embedded: EmbeddedDynamoDb | undefined;
  let client: DynamoDBDocumentClient | undefined;
  let archiveClient: DynamoDBDocumentClient | undefined;
  let node: CdsNode | undefined;
  try {
    if (given === undefined) embedded = await startEmbeddedDynamoDb({ path: prepareStateDir(options['state-dir']) });
    const endpoint = embedded?.endpoint ?? (given === AWS_DYNAMODB ? undefined : given);
    client = createDocumentClient({ endpoint });
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
      peers: new Map(options.peer.map((peer) => [peer.id, peer.urls])),
      peerKey,
      store: new DynamoCdsStore({
        client,
        tableName: table,
        clock: systemClock,
        retentionMs: 7 * 86_400_000,
        onInvalidItem: (key, problem) => logger.error('skipping a malformed item', { key, problem }),
      }),
      archive: new DynamoCallArchive(archiveClient, archive.name),
      timers: { heartbeatMs: options['heartbeat-ms'], expiryMs: options['expiry-ms'], endGraceMs: options['end-grace-ms'] },
      logger,
      mediaServers: options['media-server'].map((target) => ({ ...target, password: options.password ?? '' })),
    });
    output.line(`cds: site ${options.site} listening on http://${options.listen.host}:${node.port}`);
    const fenced = await Promise.race([node.fenced, stopped(stop)]);
    // Exiting non-zero makes ECS replace a zombie task rather than leave it running beside the newer node.
    if (fenced) throw new CliError(fenced.message);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cds serve: ${errorMessage(error)}`);
  } finally {
    await node?.stop();
    if (archiveClient !== client) archiveClient?.destroy();
    client?.destroy();
    await embedded?.close();
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

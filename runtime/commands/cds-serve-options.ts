import { z } from 'zod';
import { siteIdSchema } from '../cds/call/identifiers';
import { peerPublicKeySchema } from '../cds/network/peer-identity';
import { tableReferenceSchema } from '../dynamodb/table-reference';
import { formatHostPort, hostPortSchema, type HostPort } from '../net/host-port';
import { UsageError } from './cli-error';
import { CDS_PEER_PORT, type CDS_SERVE_OPTIONS } from './cds-serve-flags';
import { CDS_LOCAL_TOKEN_VARIABLE, CDS_PEER_KEY_VARIABLE, ESL_PASSWORD_VARIABLE } from './secret-variables';

/**
 * The `voiceplane cds serve` command line, built and parsed from one option table: the constructs build the CDS
 * task's command with {@link cdsServeCommandLine}, the CLI parses it with the flags of `cds-serve-flags` and
 * {@link parseCdsServeOptions}. Pure, so the constructs may import it.
 */

/** `--dynamodb-endpoint aws`: the region's own endpoint, reached with the credentials of the task role. */
export const AWS_DYNAMODB = 'aws';

type CdsServeFlag = keyof typeof CDS_SERVE_OPTIONS;
const flag = (name: CdsServeFlag) => `--${name}`;

/** Another site's CDS: its id, base URLs (one per availability zone) and public key. */
export interface CdsPeer {
  readonly id: string;
  readonly urls: readonly string[];
  /** The peer's CDS public key (Ed25519, base64 SPKI DER): its requests are checked with it. Not a secret. */
  readonly publicKey: string;
}

/** What the constructs pass to `cds serve`. */
export interface CdsServeCommandLine {
  readonly site: string;
  readonly listen: HostPort;
  /** Where the peer API listens. @default `listen`'s host, port {@link CDS_PEER_PORT} */
  readonly peerListen?: HostPort;
  /** {@link AWS_DYNAMODB} or an http(s) URL. @default an embedded DynamoDB */
  readonly dynamoDbEndpoint?: string;
  /** @default `cds-<site>` */
  readonly table?: string;
  /** Table name or ARN. @default `cds-archive` */
  readonly archiveTable?: string;
  /** Every peer is admitted by its public key (`--peer-public-key`); only those with URLs are called (`--peer`). @default none */
  readonly peers?: readonly CdsPeer[];
  /** Event sockets of the media servers whose channel events the node collects. @default none */
  readonly mediaServers?: readonly HostPort[];
}

/** `cds serve --site ... --listen ...`: the words of the command, without the program. */
export function cdsServeCommandLine(command: CdsServeCommandLine): string[] {
  const option = (name: CdsServeFlag, value: string | undefined) => (value === undefined ? [] : [flag(name), value]);
  return [
    'cds',
    'serve',
    ...option('site', command.site),
    ...option('listen', formatHostPort(command.listen)),
    ...option('peer-listen', command.peerListen && formatHostPort(command.peerListen)),
    ...option('dynamodb-endpoint', command.dynamoDbEndpoint),
    ...option('table', command.table),
    ...option('archive-table', command.archiveTable),
    ...(command.peers ?? []).filter((peer) => peer.urls.length > 0).flatMap((peer) => option('peer', `${peer.id}=${peer.urls.join(',')}`)),
    ...(command.peers ?? []).flatMap((peer) => option('peer-public-key', `${peer.id}=${peer.publicKey}`)),
    ...(command.mediaServers ?? []).flatMap((socket) => option('media-server', formatHostPort(socket))),
  ];
}

/**
 * The raw values parseArgs produced for CDS_SERVE_OPTIONS. `password` may come from the environment instead,
 * and so may the peer key (`peerKey`: ECS injects secrets as variables).
 */
export interface CdsServeRawOptions {
  readonly peerKey?: string;
  readonly site?: string;
  readonly listen?: string;
  readonly 'peer-listen'?: string;
  readonly 'local-token-file'?: string;
  /** The local API token from the environment ({@link CDS_LOCAL_TOKEN_VARIABLE}). */
  readonly localToken?: string;
  readonly peer?: readonly string[];
  readonly 'peer-public-key'?: readonly string[];
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

/** The raw options of a parsed command line, with the secrets the environment holds. */
export function cdsServeRawOptions(values: Omit<CdsServeRawOptions, 'peerKey' | 'localToken'>, env: Readonly<Record<string, string | undefined>>): CdsServeRawOptions {
  return { ...values, password: values.password ?? env[ESL_PASSWORD_VARIABLE], peerKey: env[CDS_PEER_KEY_VARIABLE], localToken: env[CDS_LOCAL_TOKEN_VARIABLE] };
}

const required = (what: string) => z.string({ error: (issue) => (issue.input === undefined ? `required (${what})` : 'must be text') });
const hostPort = hostPortSchema({ syntax: 'must be HOST:PORT', range: 'port must be 0-65535' });
const httpUrl = z.string().refine((value) => /^https?:\/\/[^\s/]+/.test(value) && URL.canParse(value), 'must be an http(s) URL');
/** A peer's base URL, `http(s)://HOST[:PORT]`: the peer API's paths are absolute, so a path would be ignored (and ',' separates URLs). */
export const cdsPeerUrlSchema = z.string().refine((value) => /^https?:\/\/[^\s/,]+\/?$/.test(value) && URL.canParse(value), 'must be an http(s) URL');
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
  .pipe(z.object({ id: siteIdSchema, urls: z.array(cdsPeerUrlSchema) }));

/** `ID=KEY`: a peer site admitted by its CDS public key (base64 SPKI DER, or the body of its PEM). */
const peerPublicKeySpec = z
  .string()
  .regex(/^[^=]+=.+$/, 'must be ID=PUBLIC-KEY')
  .transform((value) => ({ id: value.slice(0, value.indexOf('=')), publicKey: value.slice(value.indexOf('=') + 1) }))
  .pipe(z.object({ id: siteIdSchema, publicKey: peerPublicKeySchema }));

/** Defaults of the timer options: the node's own. */
export interface CdsServeTimerDefaults {
  readonly heartbeatMs: number;
  readonly expiryMs: number;
  readonly endGraceMs: number;
}

function cdsServeOptionsSchema(timers: CdsServeTimerDefaults) {
  return z
    .object({
      site: required('this site id').pipe(siteIdSchema),
      listen: required('HOST:PORT to listen on').pipe(hostPort),
      'peer-listen': hostPort.optional(),
      'local-token-file': z.string().optional(),
      localToken: z.string().optional(),
      peer: z.array(peerSpec).default([]),
      'peer-public-key': z.array(peerPublicKeySpec).default([]),
      peerKey: z.string().optional(),
      'peer-key-file': z.string().optional(),
      'dynamodb-endpoint': dynamoDbEndpoint.optional(),
      table: tableName.optional(),
      'archive-table': tableReferenceSchema.optional(),
      'heartbeat-ms': milliseconds(timers.heartbeatMs),
      'expiry-ms': milliseconds(timers.expiryMs),
      'end-grace-ms': milliseconds(timers.endGraceMs),
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
      const keyed = options['peer-public-key'].map((peer) => peer.id);
      keyed.forEach((id, index) => {
        if (id === options.site) ctx.addIssue({ code: 'custom', path: ['peer-public-key'], message: `"${id}" is this site` });
        else if (keyed.indexOf(id) !== index) ctx.addIssue({ code: 'custom', path: ['peer-public-key'], message: `"${id}" is given twice` });
      });
      ids.filter((id) => !keyed.includes(id)).forEach((id) => ctx.addIssue({ code: 'custom', path: ['peer-public-key'], message: `required for peer "${id}" (ID=PUBLIC-KEY, as \`voiceplane cds keygen\` prints)` }));
      if (options['expiry-ms'] <= 2 * options['heartbeat-ms']) {
        ctx.addIssue({ code: 'custom', path: ['expiry-ms'], message: 'must exceed two heartbeats (an outage is reported after two missed heartbeats)' });
      }
      if ((options['peer-key-file'] === undefined) === (options.peerKey === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['peer-key-file'], message: `give exactly one of --peer-key-file and ${CDS_PEER_KEY_VARIABLE} (this site's private key, from voiceplane cds keygen)` });
      }
      if ((options['local-token-file'] === undefined) === (options.localToken === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['local-token-file'], message: `give exactly one of --local-token-file and ${CDS_LOCAL_TOKEN_VARIABLE} (the token of the site's clients)` });
      }
      const peerListen = peerListenOf(options);
      if (peerListen.port !== 0 && peerListen.port === options.listen.port && peerListen.host === options.listen.host) {
        ctx.addIssue({ code: 'custom', path: ['peer-listen'], message: `must differ from --listen (${formatHostPort(options.listen)}): the peer API listens apart` });
      }
      if (options['state-dir'] !== undefined && options['dynamodb-endpoint'] !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['state-dir'], message: 'keeps the embedded DynamoDB on disk; leave it out with --dynamodb-endpoint' });
      }
      if (options['media-server'].length > 0 && !options.password) {
        ctx.addIssue({ code: 'custom', path: ['password'], message: 'required with --media-server (the event socket password)' });
      }
    })
    .transform((options) => ({ ...options, 'peer-listen': peerListenOf(options) }));
}

/**
 * `--peer-listen`, by default `--listen`'s host on {@link CDS_PEER_PORT}, or on any free port when `--listen`
 * asks for any free port (nodes started side by side, as tests do).
 */
function peerListenOf(options: { readonly listen: HostPort; readonly 'peer-listen'?: HostPort }): HostPort {
  return options['peer-listen'] ?? { host: options.listen.host, port: options.listen.port === 0 ? 0 : CDS_PEER_PORT };
}

export type CdsServeOptions = z.output<ReturnType<typeof cdsServeOptionsSchema>>;

/** Raw options that come from the environment, named by their variable in errors. */
const SECRET_FIELDS: Readonly<Record<string, string>> = { peerKey: CDS_PEER_KEY_VARIABLE, localToken: CDS_LOCAL_TOKEN_VARIABLE };

/** Validates the raw option values, timers defaulting to `timers`; the first problem as one line naming its flag (or variable). */
export function parseCdsServeOptions(raw: CdsServeRawOptions, timers: CdsServeTimerDefaults): CdsServeOptions {
  const parsed = cdsServeOptionsSchema(timers).safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = String(issue?.path[0] ?? 'options');
  throw new UsageError(`${SECRET_FIELDS[field] ?? `--${field}`}: ${issue?.message ?? 'invalid'}`);
}

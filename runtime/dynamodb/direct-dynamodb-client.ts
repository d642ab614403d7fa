import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import type { HttpRequest, HttpResponse } from '@smithy/types';
import { z } from 'zod';
import { backoffDelayMs, type BackoffPolicy } from '../esl/backoff';

export type NativeItem = Record<string, NativeAttributeValue>;

/** One put or delete of a BatchWriteItem request, in native values (as the document client takes them). */
export interface WriteRequest {
  readonly PutRequest?: { readonly Item: NativeItem };
  readonly DeleteRequest?: { readonly Key: NativeItem };
}

/** An UpdateItem request, in native values: its condition failing rejects with `ConditionalCheckFailedException`. */
export interface UpdateItemInput {
  readonly TableName: string;
  readonly Key: NativeItem;
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: NativeItem;
}

/** How a request that failed for a passing reason (throttling, a server error, a broken connection) is tried again. */
export interface RequestRetry {
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  readonly sleep: (delayMs: number) => Promise<void>;
}

/** As the AWS SDK's standard retry mode waits: from 100 ms, doubling, capped at 20 s, with jitter. */
const DEFAULT_RETRY: RequestRetry = {
  backoff: { initialDelayMs: 100, maxDelayMs: 20_000 },
  random: Math.random,
  sleep: (delayMs) => new Promise((resolve) => setTimeout(resolve, delayMs)),
};

/** Error types DynamoDB answers when a request is to be sent again later, as the SDK's standard retry mode lists them. */
const THROTTLING_TYPES = new Set(['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException', 'TooManyRequestsException', 'ThrottledException', 'TransactionInProgressException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

const errorReplySchema = z.object({ __type: z.string().optional(), message: z.string().optional(), Message: z.string().optional() });
const attributeMapSchema = z.record(z.string(), z.record(z.string(), z.unknown()));
const batchWriteReplySchema = z.object({
  UnprocessedItems: z
    .record(z.string(), z.array(z.object({ PutRequest: z.object({ Item: attributeMapSchema }).optional(), DeleteRequest: z.object({ Key: attributeMapSchema }).optional() })))
    .optional(),
});

/** DynamoDB refused a request: `name` is its error type (`ConditionalCheckFailedException`, ...), as the SDK names it. */
export class DynamoDbRequestError extends Error {
  constructor(
    message: string,
    name: string,
    readonly statusCode: number | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = name;
  }
}

type Signer = { sign: (request: HttpRequest) => Promise<HttpRequest> };
type Handler = { handle: (request: HttpRequest) => Promise<{ response: HttpResponse }> };

interface Connection {
  readonly endpoint: URL;
  readonly signer: Signer;
  readonly handler: Handler;
  readonly maxAttempts: number;
}

/**
 * The writes a CDS node makes all the time (PutItem, BatchWriteItem, the UpdateItem of its delivery cursors) sent as
 * DynamoDB JSON requests through the document client's own signer (credentials, region) and HTTP handler (agents,
 * timeouts), without its per-command middleware stack: that stack cost about 280 µs of CPU per request on a 2-core
 * host, three times the HTTP exchange itself, and a busy node makes hundreds of these requests a second. Everything
 * else keeps using the document client.
 */
export class DirectDynamoDbClient {
  private connection?: Promise<Connection>;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly retry: RequestRetry = DEFAULT_RETRY,
  ) {}

  async putItem(tableName: string, item: NativeItem): Promise<void> {
    await this.send('PutItem', { TableName: tableName, Item: toWire(marshall(item, { removeUndefinedValues: true })) });
  }

  async updateItem({ Key, ExpressionAttributeValues, ...input }: UpdateItemInput): Promise<void> {
    const values = ExpressionAttributeValues && { ExpressionAttributeValues: toWire(marshall(ExpressionAttributeValues)) };
    await this.send('UpdateItem', { ...input, Key: toWire(marshall(Key)), ...values });
  }

  /** Sends up to 25 puts and deletes; resolves with those DynamoDB left unprocessed (to be sent again later). */
  async batchWriteItem(tableName: string, requests: readonly WriteRequest[]): Promise<WriteRequest[]> {
    const wire = requests.map((request) =>
      request.PutRequest ? { PutRequest: { Item: toWire(marshall(request.PutRequest.Item, { removeUndefinedValues: true })) } } : { DeleteRequest: { Key: toWire(marshall(request.DeleteRequest?.Key ?? {})) } },
    );
    const reply = batchWriteReplySchema.safeParse(await this.send('BatchWriteItem', { RequestItems: { [tableName]: wire } }));
    if (!reply.success) throw new DynamoDbRequestError(`DynamoDB BatchWriteItem answered an unexpected body: ${reply.error.issues[0]?.message ?? 'invalid'}`, 'InvalidReply', 200, false);
    return (reply.data.UnprocessedItems?.[tableName] ?? []).map((request) =>
      request.PutRequest ? { PutRequest: { Item: fromWireItem(request.PutRequest.Item) } } : { DeleteRequest: { Key: fromWireItem(request.DeleteRequest?.Key ?? {}) } },
    );
  }

  private async send(operation: string, input: unknown): Promise<unknown> {
    const connection = await this.connect();
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.exchange(connection, operation, body);
      } catch (error) {
        if (attempt >= connection.maxAttempts || !isRetryable(error)) throw error;
        await this.retry.sleep(backoffDelayMs(attempt - 1, this.retry.backoff, this.retry.random));
      }
    }
  }

  private async exchange({ endpoint, signer, handler }: Connection, operation: string, body: string): Promise<unknown> {
    const request: HttpRequest = {
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port === '' ? undefined : Number(endpoint.port),
      path: endpoint.pathname,
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    };
    const { response } = await handler.handle(await signer.sign(request));
    const text = await readBody(response);
    const status = response.statusCode;
    if (status >= 200 && status < 300) return parseJson(text, operation, status);
    const reply = errorReplySchema.safeParse(parseJson(text, operation, status));
    const type = (reply.success ? reply.data.__type : undefined)?.split('#').pop() || `Http${status}`;
    const message = (reply.success ? (reply.data.message ?? reply.data.Message) : undefined) ?? text.slice(0, 200);
    throw new DynamoDbRequestError(`DynamoDB ${operation}: ${message} (${type}, HTTP ${status})`, type, status, THROTTLING_TYPES.has(type) || TRANSIENT_STATUS.has(status));
  }

  /** The document client's endpoint, signer and handler, found once. */
  private connect(): Promise<Connection> {
    this.connection ??= (async () => {
      const { config } = this.client;
      const signer = (await config.signer()) as Signer;
      return { endpoint: await this.endpoint(), signer, handler: config.requestHandler as Handler, maxAttempts: await config.maxAttempts() };
    })();
    this.connection.catch(() => (this.connection = undefined));
    return this.connection;
  }

  /**
   * Where the document client sends its requests: the endpoint it was given, else one configured for DynamoDB in the
   * environment or shared config (AWS_ENDPOINT_URL_DYNAMODB), else the region's own.
   */
  private async endpoint(): Promise<URL> {
    const { config } = this.client;
    if (config.isCustomEndpoint && config.endpoint) {
      const { protocol, hostname, port, path } = await config.endpoint();
      return new URL(`${protocol}//${hostname}${port === undefined ? '' : `:${port}`}${path}`);
    }
    const configured = config.ignoreConfiguredEndpointUrls ? undefined : await config.serviceConfiguredEndpoint?.();
    if (configured) return new URL(configured);
    const [region, useFips, useDualStack] = await Promise.all([config.region(), config.useFipsEndpoint(), config.useDualstackEndpoint()]);
    return new URL(config.endpointProvider({ Region: region, UseFIPS: useFips, UseDualStack: useDualStack, AccountIdEndpointMode: 'disabled' }).url.href);
  }
}

function isRetryable(error: unknown): boolean {
  if (error instanceof DynamoDbRequestError) return error.retryable;
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return error.name === 'TimeoutError' || (code !== undefined && TRANSIENT_NETWORK_CODES.has(code));
}

async function readBody(response: HttpResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string, operation: string, status: number): unknown {
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch {
    // A proxy's HTML error page, a truncated answer: worth another attempt if the status says the server failed.
    throw new DynamoDbRequestError(`DynamoDB ${operation} answered HTTP ${status} with a body that is not JSON`, 'InvalidReply', status, TRANSIENT_STATUS.has(status));
  }
}

type WireValue = Record<string, unknown>;

/** Attribute values as the JSON protocol carries them: binary values in base64. */
function toWire(attributes: Record<string, unknown>): Record<string, WireValue> {
  return Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, toWireValue(value as WireValue)]));
}

function toWireValue(value: WireValue): WireValue {
  if (value.B instanceof Uint8Array) return { B: Buffer.from(value.B.buffer, value.B.byteOffset, value.B.byteLength).toString('base64') };
  if (Array.isArray(value.BS)) return { BS: (value.BS as Uint8Array[]).map((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')) };
  if (Array.isArray(value.L)) return { L: (value.L as WireValue[]).map(toWireValue) };
  if (value.M !== undefined && typeof value.M === 'object') return { M: toWire(value.M as Record<string, unknown>) };
  return value;
}

function fromWireItem(attributes: Record<string, WireValue>): NativeItem {
  return unmarshall(Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, fromWireValue(value)])) as unknown as Parameters<typeof unmarshall>[0]);
}

function fromWireValue(value: WireValue): WireValue {
  if (typeof value.B === 'string') return { B: Buffer.from(value.B, 'base64') };
  if (Array.isArray(value.BS)) return { BS: (value.BS as string[]).map((text) => Buffer.from(text, 'base64')) };
  if (Array.isArray(value.L)) return { L: (value.L as WireValue[]).map(fromWireValue) };
  if (value.M !== undefined && typeof value.M === 'object') return { M: Object.fromEntries(Object.entries(value.M as Record<string, WireValue>).map(([name, inner]) => [name, fromWireValue(inner)])) };
  return value;
}

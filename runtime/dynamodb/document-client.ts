import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Agent } from 'http';
import { Agent as HttpsAgent } from 'https';

export interface DynamoDbConnection {
  /** Omit for AWS itself; set for dynalite or another local endpoint. */
  readonly endpoint?: string;
  /** Default: the SDK's own lookup (AWS_REGION, the task or Lambda environment); us-east-1 on a loopback endpoint. */
  readonly region?: string;
  /** A request with no answer after this long fails (and is retried, up to 4 attempts in all). @default 10 000 ms */
  readonly requestTimeoutMs?: number;
}

/** Endpoints on this machine are local DynamoDB stand-ins (dynalite), which accept any credentials. */
function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/**
 * dynalite checks that a request carries a well-formed signature, never that it is right: on loopback a
 * fixed one spares two HMAC chains per request (a large share of the CPU an embedded node spends).
 */
const loopbackSigner = {
  sign: async <T extends { headers: Record<string, string> }>(request: T): Promise<T> => {
    request.headers['x-amz-date'] = '20000101T000000Z';
    request.headers.authorization = 'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';
    return request;
  },
};

/**
 * A document client with kept-alive connections and Nagle's algorithm off (small requests are not held
 * back waiting for acknowledgements). Without an endpoint the SDK finds the credentials itself (the ECS
 * task or Lambda role); a loopback endpoint gets placeholder credentials and signature.
 */
export function createDocumentClient(connection: DynamoDbConnection = {}): DynamoDBDocumentClient {
  const { endpoint } = connection;
  const local = endpoint !== undefined && isLoopback(endpoint);
  const region = connection.region ?? (local ? 'us-east-1' : undefined);
  const client = new DynamoDBClient({
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, signer: loopbackSigner } : {}),
    maxAttempts: 4,
    requestHandler: {
      httpAgent: new Agent({ keepAlive: true, maxSockets: 64, noDelay: true }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64, noDelay: true }),
      connectionTimeout: 2000,
      requestTimeout: connection.requestTimeoutMs ?? 10_000,
      // Without it the SDK only logs a late answer and waits on: a DynamoDB that stops answering would hang the caller.
      throwOnRequestTimeout: true,
    },
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Agent } from 'http';
import { Agent as HttpsAgent } from 'https';

/** Endpoints on this machine are local DynamoDB stand-ins (dynalite), which accept any credentials. */
function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/**
 * A document client with kept-alive connections. Without `endpoint` the SDK finds the region and
 * credentials itself (the ECS task role); a loopback endpoint gets a placeholder region and credentials.
 */
export function createDocumentClient(endpoint?: string): DynamoDBDocumentClient {
  const local = endpoint !== undefined && isLoopback(endpoint);
  const client = new DynamoDBClient({
    ...(endpoint ? { endpoint } : {}),
    ...(local ? { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 4,
    requestHandler: {
      httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
      connectionTimeout: 2000,
      requestTimeout: 10_000,
    },
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

import { backoffDelayMs } from '../esl/backoff';
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DirectDynamoDbClient, RequestRetry, WriteRequest } from './direct-dynamodb-client';

export const BATCH_WRITE_LIMIT = 25;
/** Unprocessed items are retried this many times (DynamoDB returns them when throttling). */
const BATCH_WRITE_ROUNDS = 8;

/** How unprocessed items wait before they are sent again: a throttled table needs time, not an instant retry. */
const UNPROCESSED_RETRY: RequestRetry = {
  backoff: { initialDelayMs: 50, maxDelayMs: 2_000 },
  random: Math.random,
  sleep: (delayMs) => new Promise((resolve) => setTimeout(resolve, delayMs)),
};

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Every item of a query, following pagination. */
export async function queryAll(client: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * Unconditional puts and deletes in batches of 25, in parallel, retrying what DynamoDB leaves unprocessed
 * after an exponential backoff with jitter.
 */
export async function batchWrite(client: Pick<DirectDynamoDbClient, 'batchWriteItem'>, table: string, requests: readonly WriteRequest[], retry: RequestRetry = UNPROCESSED_RETRY): Promise<void> {
  await Promise.all(
    inBatches(requests).map(async (chunk) => {
      let pending = chunk;
      for (let round = 0; pending.length > 0; round++) {
        if (round === BATCH_WRITE_ROUNDS) throw new Error(`batch write to ${table}: ${pending.length} items still unprocessed after ${round} rounds`);
        if (round > 0) await retry.sleep(backoffDelayMs(round - 1, retry.backoff, retry.random));
        pending = await client.batchWriteItem(table, pending);
      }
    }),
  );
}

/** Requests in groups of BATCH_WRITE_LIMIT, the most one BatchWriteItem takes. */
export function inBatches(requests: readonly WriteRequest[]): WriteRequest[][] {
  const batches: WriteRequest[][] = [];
  for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) batches.push(requests.slice(start, start + BATCH_WRITE_LIMIT));
  return batches;
}

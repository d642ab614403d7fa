import type { DirectDynamoDbClient, RequestRetry, WriteRequest } from '../../runtime/dynamodb/direct-dynamodb-client';
import { batchWrite } from '../../runtime/dynamodb/operations';

/** A table that leaves every item unprocessed for the first `throttledRounds` requests. */
function throttlingClient(throttledRounds: number): { client: Pick<DirectDynamoDbClient, 'batchWriteItem'>; requests: number } {
  const state = { requests: 0 };
  const client = {
    batchWriteItem: async (_table: string, requests: readonly WriteRequest[]) => {
      state.requests += 1;
      return state.requests <= throttledRounds ? [...requests] : [];
    },
  };
  return {
    client,
    get requests() {
      return state.requests;
    },
  };
}

const item = (id: number): WriteRequest => ({ PutRequest: { Item: { pk: `p${id}`, sk: 's' } } });

function recordingRetry(): { retry: RequestRetry; delays: number[] } {
  const delays: number[] = [];
  return { delays, retry: { backoff: { initialDelayMs: 100, maxDelayMs: 1_000 }, random: () => 0.5, sleep: async (delayMs) => void delays.push(delayMs) } };
}

describe('batchWrite', () => {
  it('waits longer before each retry of unprocessed items, up to the cap', async () => {
    const table = throttlingClient(5);
    const { retry, delays } = recordingRetry();
    await batchWrite(table.client, 't', [item(1), item(2)], retry);
    expect(table.requests).toBe(6);
    expect(delays).toEqual([75, 150, 300, 600, 750]);
  });

  it('does not wait when nothing is left unprocessed', async () => {
    const table = throttlingClient(0);
    const { retry, delays } = recordingRetry();
    await batchWrite(table.client, 't', [item(1)], retry);
    expect(delays).toEqual([]);
  });

  it('gives up after eight rounds, naming the table', async () => {
    const table = throttlingClient(100);
    const { retry } = recordingRetry();
    await expect(batchWrite(table.client, 'cds', [item(1)], retry)).rejects.toThrow(/batch write to cds: 1 items still unprocessed after 8 rounds/);
    expect(table.requests).toBe(8);
  });
});

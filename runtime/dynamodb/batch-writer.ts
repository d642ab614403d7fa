import type { DirectDynamoDbClient, WriteRequest } from './direct-dynamodb-client';
import { BATCH_WRITE_LIMIT, batchWrite } from './operations';
import { partsSettled } from '../shared/parts-settled';

interface QueuedRequest {
  readonly request: WriteRequest;
  readonly written: () => void;
  readonly failed: (error: unknown) => void;
}

/**
 * Group commit: puts and deletes from concurrent callers share BatchWriteItem requests. A write goes out at
 * once while fewer than `maxInFlight` batches are under way; writes arriving meanwhile wait and fill the next
 * batches. One DynamoDB request per write would cap a node at what one request costs (about 1,300 a second
 * on dynalite). Two batches under way by default: one fills while the other is stored, and fewer, fuller
 * batches cost much less CPU per item than many small ones (with four, an embedded node sustained about
 * 40 % fewer updates). Callers must not have two writes of the same item under way at once: the order in which
 * concurrent batches land is not defined.
 */
export class BatchWriter {
  private readonly queue: QueuedRequest[] = [];
  private inFlight = 0;

  constructor(
    private readonly client: DirectDynamoDbClient,
    private readonly table: string,
    private readonly maxInFlight = 2,
  ) {}

  /** Resolves once every request is written; rejects if any of them could not be. */
  write(requests: readonly WriteRequest[]): Promise<void> {
    if (requests.length === 0) return Promise.resolve();
    const { settled, written, failed } = partsSettled(requests.length);
    for (const request of requests) this.queue.push({ request, written, failed });
    this.pump();
    return settled;
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH_WRITE_LIMIT);
      this.inFlight += 1;
      batchWrite(this.client, this.table, batch.map((queued) => queued.request))
        .then(
          () => batch.forEach((queued) => queued.written()),
          (error: unknown) => batch.forEach((queued) => queued.failed(error)),
        )
        .finally(() => {
          this.inFlight -= 1;
          this.pump();
        });
    }
  }
}

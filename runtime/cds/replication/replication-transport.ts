import type { z } from 'zod';
import type { HlcTimestamp } from '../clock/hlc';
import type { NewOutboxMessage } from '../network/outbox-messages';
import type { UpdatesRequest } from '../network/peer-messages';

/** What owner and participant replication need of the network proxy to reach peers. */
export interface ReplicationTransport {
  /** Stores a control message in the durable outbox and queues it for its peer. */
  send(message: NewOutboxMessage): Promise<void>;
  /** Something of the call is undelivered to `peer`: its delivery sends it when it can. */
  markDirty(peer: string, callId: string): void;
  /** Runs work in the background, tracked so that stopping waits for it. */
  background(work: () => Promise<void>, onError: (error: unknown) => void): void;
  /**
   * One call's delta to a peer, batched with other calls' deltas to it; resolves with the highest stamp the peer
   * acknowledged once it has stored them, rejects (`PeerRequestError`) as a single updates message would have.
   */
  sendUpdates(peer: string, request: UpdatesRequest): Promise<HlcTimestamp>;
  /** One signed request to a peer. */
  post<T>(peer: string, path: string, body: unknown, replySchema: z.ZodType<T>): Promise<T>;
}

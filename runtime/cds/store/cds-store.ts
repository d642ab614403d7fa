import type { CallEntry } from '../call/call-entries';
import type { CallState } from '../call/call-record';
import type { HlcTimestamp } from '../clock/hlc';
import type { ClockHighWaterMark, FencedError } from '../clock/hybrid-clock';
import type { NewOutboxMessage, OutboxMessage } from '../network/outbox-messages';

export interface StoredCallMeta {
  readonly callId: string;
  readonly owner: string;
  readonly state: CallState;
  /** The owner's stamp of the end of call. */
  readonly endedTs?: number;
  /** Wall-clock ms when this node opened the call (its age is counted from it). */
  readonly openedAt?: number;
}

/** A remote site registered with this node (the owner) for a call; `ackedTs` is the delivery cursor. */
export interface StoredParticipant {
  readonly site: string;
  readonly ackedTs: HlcTimestamp;
}

/**
 * This node's registration with the owner of a foreign call. `receivedTs`: the owner's recording stamp up to
 * which everything has been received (the `since` of a re-registration); `ackedTs`: own writes the owner has
 * acknowledged. `expired`: the owner was unreachable for longer than the expiry, so it has dropped this site.
 */
export interface StoredUpstream {
  readonly status: 'registered' | 'unregistered' | 'expired';
  readonly receivedTs: HlcTimestamp;
  readonly ackedTs: HlcTimestamp;
}

/** The two cursors of an upstream registration. */
export type UpstreamCursor = 'receivedTs' | 'ackedTs';

export interface StoredCall {
  readonly meta: StoredCallMeta;
  readonly entries: readonly CallEntry[];
  readonly clients: readonly string[];
  readonly participants: readonly StoredParticipant[];
  readonly upstream?: StoredUpstream;
}

/**
 * The writes of call entries so far: journal items and the changes they carried, the BatchWriteItem requests that
 * wrote changes straight to their items and those items, and the compactions of the journal with the entry items
 * they wrote or deleted.
 */
export interface EntryWriteStats {
  readonly journalWrites: number;
  readonly journaledEntries: number;
  readonly directWrites: number;
  readonly directItems: number;
  readonly compactedItems: number;
  readonly compactions: number;
}

/** Everything a node keeps about calls, one DynamoDB item per property, log entry, registration and cursor. */
export interface CallStore {
  loadCall(callId: string): Promise<StoredCall | undefined>;
  /** Creates the call's metadata unless it exists, and lists it among the open calls. */
  createCall(meta: StoredCallMeta): Promise<void>;
  /**
   * Stores entries that won against the record held in memory (see entriesToStore). The node is the only
   * writer of its table (the fence of ClockHighWaterMark) and stores one call's changes at a time, in the
   * call's lane: last writer wins is decided there, and entries of many calls can share write requests.
   */
  storeEntries(callId: string, entries: readonly CallEntry[]): Promise<void>;
  /** The owner's final record overrides whatever this node held. */
  replaceEntries(callId: string, final: readonly CallEntry[], held: readonly CallEntry[]): Promise<void>;
  markEnded(callId: string, endedTs: number): Promise<void>;
  /** Drops the call from the open calls (it stays readable until its items expire). */
  closeCall(callId: string): Promise<void>;
  /** Lists a closed call among the open calls again (it became active here once more). */
  reopenCall(callId: string): Promise<void>;
  listOpenCalls(): Promise<string[]>;
  putClient(callId: string, client: string): Promise<void>;
  deleteClient(callId: string, client: string): Promise<void>;
  putParticipant(callId: string, participant: StoredParticipant): Promise<void>;
  /** Raises the cursor (never lowers it; a registration with `since` sets it with putParticipant). */
  advanceParticipant(callId: string, site: string, ackedTs: HlcTimestamp): Promise<void>;
  deleteParticipant(callId: string, site: string): Promise<void>;
  putUpstream(callId: string, upstream: StoredUpstream): Promise<void>;
  /** Raises either cursor of the upstream registration. */
  advanceUpstream(callId: string, cursor: UpstreamCursor, value: HlcTimestamp): Promise<void>;
}

/** The durable outbox of control messages (see OutboxMessage). */
export interface OutboxStore {
  /** Stores the message, replacing the pending one of the same peer, call and topic; resolves with its version. */
  putOutbox(message: NewOutboxMessage): Promise<OutboxMessage>;
  listOutbox(): Promise<OutboxMessage[]>;
  /** Deletes the message if it is still at `version`. */
  deleteOutbox(message: OutboxMessage): Promise<void>;
}

export type CdsStore = CallStore &
  OutboxStore & {
    readonly clockHighWaterMark: ClockHighWaterMark;
    /** Settles once this node finds that another one has taken its table; every write is refused from then on. */
    readonly fenced: Promise<FencedError>;
    /** A cheap read of the table; throws when the node cannot reach it, and FencedError once another node took it. */
    checkReachable(): Promise<void>;
    /** The writes of call entries so far. */
    readonly entryWriteStats?: () => EntryWriteStats;
    /** Stops background work on the table (after the last change was made). */
    close(): Promise<void>;
  };

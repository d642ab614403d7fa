import { z } from 'zod';
import { callEntrySchema, timestampSchema, type CallEntry } from '../call/call-entries';
import { callIdSchema, siteIdSchema } from '../call/identifiers';

/** Bodies of the peer API (site to site) and of its replies. Every reply carries the replying site's clock (`time`). */

export const PEER_PATHS = {
  register: '/v1/peer/register',
  unregister: '/v1/peer/unregister',
  updates: '/v1/peer/updates',
  /** The deltas of many calls in one message (see `updatesBatchRequestSchema`); a node that predates it answers 404 `not-found`. */
  updatesBatch: '/v1/peer/updates-batch',
  heartbeat: '/v1/peer/heartbeat',
  end: '/v1/peer/end',
} as const;

/** The reason of a refusal of a request signed too long ago to be told from a replay: the sender signs it again (retries). */
export const STALE_REQUEST = 'stale-request';

/** Entries per updates message; a longer delta goes in several. */
export const MAX_ENTRIES_PER_MESSAGE = 2000;

/** Bound on the bytes of entries in one updates message, and of the deltas in one batch (the peer body limit is larger). */
export const MAX_MESSAGE_ENTRY_BYTES = 1024 * 1024;

/** Splits a delta into updates messages bounded in entries and bytes, keeping its order. */
export function updateChunks(entries: readonly CallEntry[]): CallEntry[][] {
  const result: CallEntry[][] = [];
  let current: CallEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(JSON.stringify(entry));
    if (current.length > 0 && (current.length === MAX_ENTRIES_PER_MESSAGE || bytes + size > MAX_MESSAGE_ENTRY_BYTES)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

export const registerRequestSchema = z.strictObject({ callId: callIdSchema, site: siteIdSchema, since: timestampSchema.optional() });
export const unregisterRequestSchema = z.strictObject({ callId: callIdSchema, site: siteIdSchema });
export const updatesRequestSchema = z.strictObject({
  callId: callIdSchema,
  site: siteIdSchema,
  entries: z.array(callEntrySchema).min(1).max(MAX_ENTRIES_PER_MESSAGE),
});
/** Calls in one updates batch. */
export const MAX_DELTAS_PER_BATCH = 256;

/** One call's delta inside a batch; the batch's `site` is its sender, as in a single updates message. */
export const updateDeltaSchema = z.strictObject({ callId: callIdSchema, entries: z.array(callEntrySchema).min(1).max(MAX_ENTRIES_PER_MESSAGE) });

/**
 * The deltas of many calls to one peer, in one signed message: each is taken or refused on its own, as if it had
 * been its own updates message. Bounded like one: at most MAX_ENTRIES_PER_MESSAGE entries in all.
 */
export const updatesBatchRequestSchema = z.strictObject({
  site: siteIdSchema,
  deltas: z
    .array(updateDeltaSchema)
    .min(1)
    .max(MAX_DELTAS_PER_BATCH)
    .refine((deltas) => deltas.reduce((sum, delta) => sum + delta.entries.length, 0) <= MAX_ENTRIES_PER_MESSAGE, `must hold at most ${MAX_ENTRIES_PER_MESSAGE} entries in all`),
});
export const heartbeatRequestSchema = z.strictObject({ site: siteIdSchema });
/**
 * The end of a call, in two steps: `ending` (the participant stops taking local writes and answers with those
 * the owner has not acknowledged), then `final` once the owner has sealed the record and sent the rest of it
 * as updates. Neither carries the record, so neither grows with the call.
 */
export const endRequestSchema = z.strictObject({ callId: callIdSchema, site: siteIdSchema, endedTs: timestampSchema, step: z.enum(['ending', 'final']) });

export type RegisterRequest = z.infer<typeof registerRequestSchema>;
export type UnregisterRequest = z.infer<typeof unregisterRequestSchema>;
export type UpdatesRequest = z.infer<typeof updatesRequestSchema>;
export type UpdateDelta = z.infer<typeof updateDeltaSchema>;
export type UpdatesBatchRequest = z.infer<typeof updatesBatchRequestSchema>;
export type EndRequest = z.infer<typeof endRequestSchema>;

const time = z.number();
export const timeReplySchema = z.object({ time });
export const registerReplySchema = z.object({ time, state: z.enum(['active', 'ended']), endedTs: timestampSchema.optional(), entries: z.array(callEntrySchema) });
export const updatesReplySchema = z.object({ time, ackedTs: timestampSchema });
/** Per delta of a batch, in its order: acknowledged up to `ackedTs`, or refused as the single updates message would have been. */
export const deltaResultSchema = z.union([z.object({ ackedTs: timestampSchema }), z.object({ status: z.number().int(), error: z.string(), reason: z.string().optional() })]);
export const updatesBatchReplySchema = z.object({ time, results: z.array(deltaResultSchema).max(MAX_DELTAS_PER_BATCH) });
export const endReplySchema = z.object({ time, entries: z.array(callEntrySchema) });
export const errorReplySchema = z.object({ error: z.string(), reason: z.string().optional(), time: time.optional() });

export type RegisterReply = z.infer<typeof registerReplySchema>;
export type EndReply = z.infer<typeof endReplySchema>;
export type DeltaResult = z.infer<typeof deltaResultSchema>;
export type UpdatesBatchReply = z.infer<typeof updatesBatchReplySchema>;

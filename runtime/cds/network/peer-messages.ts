import { z } from 'zod';
import { callEntrySchema, timestampSchema, type CallEntry } from '../call/call-entries';
import { callIdSchema, siteIdSchema } from '../call/identifiers';

/** Bodies of the peer API (site to site) and of its replies. Every reply carries the replying site's clock (`time`). */

export const PEER_PATHS = {
  register: '/v1/peer/register',
  unregister: '/v1/peer/unregister',
  updates: '/v1/peer/updates',
  heartbeat: '/v1/peer/heartbeat',
  end: '/v1/peer/end',
} as const;

/** The reason of a refusal of a request signed too long ago to be told from a replay: the sender signs it again (retries). */
export const STALE_REQUEST = 'stale-request';

/** Entries per updates message; a longer delta goes in several. */
export const MAX_ENTRIES_PER_MESSAGE = 2000;

/** Bound on the bytes of entries in one updates message (the peer body limit is larger). */
const MAX_MESSAGE_ENTRY_BYTES = 1024 * 1024;

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
export type EndRequest = z.infer<typeof endRequestSchema>;

const time = z.number();
export const timeReplySchema = z.object({ time });
export const registerReplySchema = z.object({ time, state: z.enum(['active', 'ended']), endedTs: timestampSchema.optional(), entries: z.array(callEntrySchema) });
export const updatesReplySchema = z.object({ time, ackedTs: timestampSchema });
export const endReplySchema = z.object({ time, entries: z.array(callEntrySchema) });
export const errorReplySchema = z.object({ error: z.string(), reason: z.string().optional(), time: time.optional() });

export type RegisterReply = z.infer<typeof registerReplySchema>;
export type EndReply = z.infer<typeof endReplySchema>;

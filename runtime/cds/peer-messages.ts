import { z } from 'zod';
import { callEntrySchema, timestampSchema } from './call-entries';
import { callIdSchema, siteIdSchema } from './identifiers';

/** Bodies of the peer API (site to site) and of its replies. Every reply carries the replying site's clock (`time`). */

export const PEER_PATHS = {
  register: '/v1/peer/register',
  unregister: '/v1/peer/unregister',
  updates: '/v1/peer/updates',
  heartbeat: '/v1/peer/heartbeat',
  end: '/v1/peer/end',
} as const;

/** Entries per updates message; a longer delta goes in several. */
export const MAX_ENTRIES_PER_MESSAGE = 2000;

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

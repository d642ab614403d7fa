import { z } from 'zod';
import { callEntrySchema, logIdOf, timestampSchema, type CallEntry, type JsonValue } from '../call/call-entries';
import type { StoredCall, StoredCallMeta, StoredParticipant, StoredUpstream } from './cds-store';
import { callIdSchema, clientIdSchema, siteIdSchema } from '../call/identifiers';
import { parseOutboxMessage, type OutboxMessage } from '../network/outbox-messages';
import { callPk } from './call-keys';

export { callPk };

/** DynamoDB item layout of a node's table (string keys `pk`/`sk`) and its zod codecs. */

export type Item = Record<string, unknown>;

export const OPEN_CALLS_PK = 'OPEN';
export const OUTBOX_PK = 'OUTBOX';
export const JOURNAL_PK = 'JOURNAL';
export const NODE_PK = 'NODE';
export const CLOCK_SK = 'CLOCK';

export const META_SK = 'META';
export const UPSTREAM_SK = 'UPSTREAM';
export const propertySk = (name: string): string => `P#${name}`;
/** Zero-padded so a query returns log entries in write order. */
export const logSk = (ts: number, site: string): string => `L#${String(ts).padStart(17, '0')}#${site}`;
export const entrySk = (entry: CallEntry): string => (entry.kind === 'property' ? propertySk(entry.name) : logSk(entry.ts, entry.site));
export const clientSk = (client: string): string => `C#${client}`;
export const participantSk = (site: string): string => `S#${site}`;
export const outboxSk = (peer: string, callId: string, topic: string): string => `${peer}#${callId}#${topic}`;
/**
 * Zero-padded so a query returns journal items in write order; the writer's incarnation keeps two nodes that both
 * believe they own the table (the fence is checked, not enforced, on batched writes) from overwriting each other's items.
 */
export const journalSk = (sequence: number, incarnation: string): string => `${String(sequence).padStart(16, '0')}#${incarnation}`;

/** Values are stored as JSON text: DynamoDB would turn numbers into decimals and reject empty sets. */
const jsonText = z.string().transform((text, ctx): JsonValue => {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not JSON text' });
    return z.NEVER;
  }
});

const metaItem = z.object({ callId: callIdSchema, owner: siteIdSchema, state: z.enum(['active', 'ended']), endedTs: timestampSchema.optional(), openedAt: z.number().int().nonnegative().optional() });
const propertyItem = z.object({ name: z.string(), value: jsonText, ts: timestampSchema, site: z.string(), recordedTs: timestampSchema.optional() });
const logItem = z.object({ entry: jsonText, ts: timestampSchema, site: z.string(), recordedTs: timestampSchema.optional() });
const clientItem = z.object({ client: clientIdSchema });
const participantItem = z.object({ site: siteIdSchema, ackedTs: timestampSchema });
const upstreamItem = z.object({ status: z.enum(['registered', 'unregistered', 'expired']), receivedTs: timestampSchema, ackedTs: timestampSchema });
const outboxItem = z.object({
  peer: siteIdSchema,
  callId: callIdSchema,
  topic: z.enum(['registration', 'end']),
  path: z.string(),
  body: jsonText,
  version: z.number().int(),
});
/** One call's entries stored (each the winner of its key) and entry keys deleted, as a journal item holds them. */
export interface JournalChange {
  readonly callId: string;
  readonly puts: readonly CallEntry[];
  readonly deletes: readonly string[];
}

const journalChanges = z.array(z.strictObject({ callId: callIdSchema, puts: z.array(callEntrySchema), deletes: z.array(z.string().regex(/^[PL]#/, 'must be an entry key')) }));
const journalItem = z.object({
  sk: z.string().regex(/^[0-9]{16}#/, 'must be <sequence>#<incarnation>'),
  changes: z
    .instanceof(Uint8Array, { message: 'must be binary' })
    .transform((bytes) => Buffer.from(bytes).toString('utf8'))
    .pipe(jsonText),
});

/** A journal item: its key, its sequence (the write order) and the changes it holds. Throws when it does not parse (see itemProblem). */
export function parseJournalItem(item: Item): { readonly sk: string; readonly sequence: number; readonly changes: readonly JournalChange[] } {
  const { sk, changes } = journalItem.parse(item);
  return { sk, sequence: Number(sk.slice(0, 16)), changes: journalChanges.parse(changes) };
}

/** What is wrong with an item that did not parse, in one line naming the fields. */
export function itemProblem(error: unknown): string {
  return error instanceof z.ZodError ? error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ') : String(error);
}

/** `owner`: the incarnation id of the node that took the table last (the single-writer fence). */
export const clockItem = z.object({ highWaterMs: z.number().optional(), owner: z.string().optional() });

/** `expiresAt` undefined: the item never expires (the marshaller drops undefined attributes). */
export function entryItem(callId: string, entry: CallEntry, expiresAt: number | undefined): Item {
  const stamp = { ts: entry.ts, site: entry.site, recordedTs: entry.recordedTs, expiresAt };
  if (entry.kind === 'property') {
    return { pk: callPk(callId), sk: propertySk(entry.name), name: entry.name, value: JSON.stringify(entry.value), ...stamp };
  }
  return { pk: callPk(callId), sk: logSk(entry.ts, entry.site), entry: JSON.stringify(entry.entry), ...stamp };
}

function parseEntry(item: Item): CallEntry {
  const sk = String(item.sk);
  if (sk.startsWith('P#')) {
    const property = propertyItem.parse(item);
    return callEntrySchema.parse({ kind: 'property', ...property });
  }
  const log = logItem.parse(item);
  return callEntrySchema.parse({ kind: 'log', id: logIdOf(log.ts, log.site), ...log });
}

/** Rebuilds a call from its partition; an item that does not parse is reported and left out. */
export function parseCallItems(items: readonly Item[], onInvalid: (sk: string, problem: string) => void): StoredCall | undefined {
  let meta: StoredCallMeta | undefined;
  let upstream: StoredUpstream | undefined;
  const entries: CallEntry[] = [];
  const clients: string[] = [];
  const participants: StoredParticipant[] = [];
  for (const item of items) {
    const sk = String(item.sk);
    try {
      if (sk === META_SK) meta = metaItem.parse(item);
      else if (sk === UPSTREAM_SK) upstream = upstreamItem.parse(item);
      else if (sk.startsWith('P#') || sk.startsWith('L#')) entries.push(parseEntry(item));
      else if (sk.startsWith('C#')) clients.push(clientItem.parse(item).client);
      else if (sk.startsWith('S#')) participants.push(participantItem.parse(item));
      else onInvalid(sk, 'unknown sort key');
    } catch (error) {
      onInvalid(sk, itemProblem(error));
    }
  }
  return meta ? { meta, entries, clients, participants, upstream } : undefined;
}

/** A stored control message; its body is checked against the schema of its kind. */
export function parseOutboxItem(item: Item): OutboxMessage {
  return parseOutboxMessage(outboxItem.parse(item));
}

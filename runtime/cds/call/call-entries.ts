import { z } from 'zod';
import { isHlcTimestamp, type HlcTimestamp } from '../clock/hlc';
import { propertyNameSchema, siteIdSchema } from './identifiers';

/** Bound on one property value or log entry (JSON text), well inside DynamoDB's 400 KB item limit. */
export const MAX_ENTRY_JSON_BYTES = 32 * 1024;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const jsonValueSchema: z.ZodType<JsonValue> = z
  .json()
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_ENTRY_JSON_BYTES, `must be at most ${MAX_ENTRY_JSON_BYTES} bytes of JSON`);

export const timestampSchema = z.number().refine(isHlcTimestamp, 'must be a non-negative integer timestamp');

/**
 * `ts` orders writes (last writer wins), in the owner's time base; `site` wrote it. `recordedTs` is the owner's
 * stamp of when it stored the entry: deltas ("everything since") are cut on it, because a participant's write
 * can reach the owner after later writes of others.
 */
interface EntryStamp {
  readonly ts: HlcTimestamp;
  readonly site: string;
  readonly recordedTs?: HlcTimestamp;
}

export interface PropertyEntry extends EntryStamp {
  readonly kind: 'property';
  readonly name: string;
  readonly value: JsonValue;
}

export interface LogEntry extends EntryStamp {
  readonly kind: 'log';
  readonly id: string;
  readonly entry: JsonValue;
}

export type CallEntry = PropertyEntry | LogEntry;

/** A log entry's id: its stamp is unique within a call (one writer per site, monotonic per call). */
export function logIdOf(ts: HlcTimestamp, site: string): string {
  return `${ts}-${site}`;
}

const stampShape = { ts: timestampSchema, site: siteIdSchema, recordedTs: timestampSchema.optional() };

export const callEntrySchema: z.ZodType<CallEntry> = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('property'), name: propertyNameSchema, value: jsonValueSchema, ...stampShape }),
  z
    .strictObject({ kind: z.literal('log'), id: z.string(), entry: jsonValueSchema, ...stampShape })
    .refine((log) => log.id === logIdOf(log.ts, log.site), { message: 'must be <ts>-<site>', path: ['id'] }),
]);

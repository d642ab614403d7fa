import type { z } from 'zod';
import { parseOrThrowWith } from '../validation/zod-issues';

/** A SIP-layer input or operation that was rejected or failed. The message is one line. */
export class SipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SipError';
  }
}

/** Parses `input` with `schema`; on failure throws a {@link SipError} naming the first offending field. */
export function parseOrThrow<Schema extends z.ZodType>(schema: Schema, input: unknown, subject: string): z.output<Schema> {
  return parseOrThrowWith(schema, input, subject, (message) => new SipError(message));
}

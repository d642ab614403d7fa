import type { z } from 'zod';
import { parseOrThrowWith } from '../validation/zod-issues';

/** A route table, route spec, stored route value or dialplan option that was rejected. The message is one line. */
export class DialplanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DialplanError';
  }
}

/** Parses `input` with `schema`; on failure throws a {@link DialplanError} naming the first offending field. */
export function parseOrThrow<Schema extends z.ZodType>(schema: Schema, input: unknown, subject: string): z.output<Schema> {
  return parseOrThrowWith(schema, input, subject, (message) => new DialplanError(message));
}

import type { z } from 'zod';
import { parseOrThrowWith } from '../validation/zod-issues';

/** A media-server configuration setting or topology field that was rejected. The message is one line. */
export class MediaServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaServerConfigError';
  }
}

export function parseOrThrow<Schema extends z.ZodType>(schema: Schema, input: unknown, subject: string): z.output<Schema> {
  return parseOrThrowWith(schema, input, subject, (message) => new MediaServerConfigError(message));
}

import type { z } from 'zod';

/** A SIP-layer input or operation that was rejected or failed. The message is one line. */
export class SipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SipError';
  }
}

/** Parses `input` with `schema`; on failure throws a {@link SipError} naming the first offending field. */
export function parseOrThrow<Schema extends z.ZodType>(schema: Schema, input: unknown, subject: string): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const field = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : '';
  throw new SipError(`${subject}: ${field}${issue.message}`);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`), '');
}

import type { z } from 'zod';
import { UsageError } from './cli-error';

/**
 * Parses option values with a schema whose messages name their flag (`--rpc: expected HOST:PORT`); the first problem
 * is a UsageError with that message, after `flag: ` when the schema checks one flag's value.
 */
export function parseOptions<Schema extends z.ZodType>(schema: Schema, values: unknown, flag?: string): z.output<Schema> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues[0].message;
  throw new UsageError(flag === undefined ? message : `${flag}: ${message}`);
}

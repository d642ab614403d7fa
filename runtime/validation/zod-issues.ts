import type { z } from 'zod';

/** `sites[1].mediaServers[0].id`: the path of a zod issue as users write it. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`), '');
}

/** `field: problem` for an issue with a path, the bare problem otherwise. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  return issue.path.length > 0 ? `${formatPath(issue.path)}: ${issue.message}` : issue.message;
}

/** Parses `input`; on failure throws `toError('<subject>: <first offending field>: <problem>')`. */
export function parseOrThrowWith<Schema extends z.ZodType>(schema: Schema, input: unknown, subject: string, toError: (message: string) => Error): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw toError(`${subject}: ${describeIssue(result.error.issues[0])}`);
}

import type { z } from 'zod';
import { describeIssue } from '../../validation/zod-issues';
import { UpgradeStepError } from '../flow/upgrade-steps';

/**
 * Parses `input` with `schema`; on failure throws an `InvalidInput` step error whose one-line message
 * names every offending field (`subject: field: problem; other.field: problem`).
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown, subject: string): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new UpgradeStepError('InvalidInput', `${subject}: ${describeIssues(result.error.issues)}`);
}

/** `field: problem; other[2].field: problem` (issues without a path are reported bare). */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map(describeIssue).join('; ');
}

/** Error option of a strict object: names unknown fields, or says the input is not an object. */
export const strictObjectError = (issue: z.core.$ZodRawIssue): string =>
  issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}` : 'must be an object';

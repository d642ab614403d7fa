import { z } from 'zod';

/** A DynamoDB table given by name (this region's) or by ARN (any region's: the archive lives in the data center's). */
export interface TableReference {
  readonly name: string;
  /** Only for an ARN: the region whose DynamoDB holds the table. */
  readonly region?: string;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:([a-z]{2}(?:-[a-z]+)+-[0-9]):[0-9]{12}:table\/([A-Za-z0-9_.-]{3,255})$/;

export const tableReferenceSchema = z.string().transform((value, ctx): TableReference => {
  const arn = TABLE_ARN.exec(value);
  if (arn) return { name: arn[2], region: arn[1] };
  if (TABLE_NAME.test(value)) return { name: value };
  ctx.addIssue({ code: 'custom', message: 'must be a table name (3-255 letters, digits, _ . -) or a table ARN' });
  return z.NEVER;
});

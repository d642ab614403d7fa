import { z } from 'zod';

/** An event received from FreeSWITCH: header values are decoded strings; `body` is present only if non-empty. */
export interface EslEvent {
  readonly name: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

// Plain events carry strings (modesl turns Content-Length into a number); JSON events may also carry arrays,
// rendered here the way FreeSWITCH writes array headers in plain events.
const headerValueSchema = z.union([
  z.string(),
  z.number().transform(String),
  z.array(z.string()).transform((values) => `ARRAY::${values.join('|:')}`),
]);

/** Turns modesl's header list into a string map; values of any other shape are dropped. */
export function headerRecord(headers: ReadonlyArray<{ readonly name: string; readonly value: unknown }>): Record<string, string> {
  const record: Record<string, string> = {};
  for (const { name, value } of headers) {
    const parsed = headerValueSchema.safeParse(value);
    if (parsed.success) record[name] = parsed.data;
  }
  return record;
}

/** Builds an EslEvent from modesl's headers and body; undefined when there is no Event-Name (not an event). */
export function toEslEvent(
  headers: ReadonlyArray<{ readonly name: string; readonly value: unknown }>,
  body: string,
): EslEvent | undefined {
  const record = headerRecord(headers);
  const name = record['Event-Name'];
  if (!name) return undefined;
  return body ? { name, headers: record, body } : { name, headers: record };
}

import type { IncomingMessage, ServerResponse } from 'http';
import { z } from 'zod';
import { CdsRequestError } from '../call/cds-errors';

/** Reads a request body, refusing (413) one longer than `limitBytes` before or while it arrives. */
export function readRequestBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(tooLarge(limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limitBytes) {
        request.off('data', onData);
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
    request.on('close', () => {
      if (!request.complete) reject(new CdsRequestError(400, 'body: the client went away before sending all of it', 'incomplete'));
    });
  });
}

function tooLarge(limitBytes: number): CdsRequestError {
  return new CdsRequestError(413, `body: larger than ${limitBytes} bytes`, 'too-large');
}

/** One line naming the first offending field, e.g. `body.value: must be at most 32768 bytes of JSON`. */
export function describeIssue(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].join('.');
  return `${path}: ${issue?.message ?? 'is invalid'}`;
}

/**
 * Parses a JSON body against `schema`, or fails with a 400 naming the field. Nesting deeper than `maxDepth`
 * arrays and objects is refused before parsing: the recursive validation of a deeper value overflows the stack.
 */
export function parseJsonBody<T>(body: Buffer, schema: z.ZodType<T>, maxDepth: number): T {
  const text = body.toString('utf8');
  if (jsonNestingExceeds(text, maxDepth)) throw new CdsRequestError(400, `body: is nested deeper than ${maxDepth} levels`, 'malformed');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CdsRequestError(400, 'body: is not valid JSON', 'malformed');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new CdsRequestError(400, describeIssue(parsed.error, 'body'), 'malformed');
  return parsed.data;
}

/** Whether brackets and braces outside strings nest deeper than `maxDepth` (`[]` is depth 1). */
export function jsonNestingExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === '[' || char === '{') {
      if (++depth > maxDepth) return true;
    } else if (char === ']' || char === '}') {
      depth--;
    }
  }
  return false;
}

/** Validates a path parameter, or fails with a 400 naming it. */
export function parsePathParameter(value: string, schema: z.ZodType<string>, name: string): string {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CdsRequestError(400, describeIssue(parsed.error, name), 'malformed');
  return parsed.data;
}

/**
 * JSON is UTF-8 by definition (RFC 8259: the media type has no charset parameter). Only the answer to a GET could be
 * cached, so only it says not to be: a peer's replies to its POSTs, every few milliseconds, carry no header they need not.
 */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(response.req.method === 'GET' ? { 'cache-control': 'no-store' } : {}),
  });
  response.end(text);
}

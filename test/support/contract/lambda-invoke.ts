/**
 * Invokes one handler of an unpacked Lambda package in this fresh process, as the Node.js runtime does:
 * `module.export` of `handler` ("module.export"), called with the event and a context. Prints one JSON line:
 * `{"value": ...}` or `{"error": "..."}`. Usage: lambda-invoke DIR HANDLER EVENT_JSON (environment as given).
 */
import * as path from 'path';

async function invoke(dir: string, handler: string, event: unknown): Promise<unknown> {
  const separator = handler.lastIndexOf('.');
  const loaded = require(path.join(dir, handler.slice(0, separator))) as Record<string, unknown>;
  const exported = loaded[handler.slice(separator + 1)];
  if (typeof exported !== 'function') throw new Error(`handler ${handler}: not a function in ${handler.slice(0, separator)}.js`);
  return (exported as (event: unknown, context: unknown) => Promise<unknown>)(event, { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, getRemainingTimeInMillis: () => 60_000 });
}

const [dir, handler, event] = process.argv.slice(2);
invoke(dir, handler, JSON.parse(event)).then(
  (value) => process.stdout.write(`${JSON.stringify({ value: value ?? null })}\n`),
  (error: unknown) => process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`),
);

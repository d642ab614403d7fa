/**
 * ESL is line-based: a line break inside a command, header value or password would inject a second command
 * and shift every later reply. Throws a RangeError (a programming error, not an ESL failure) if `text` has one.
 */
export function requireSingleLine(text: string, what: string): string {
  if (/[\r\n]/.test(text)) throw new RangeError(`${what} must be a single line: ${JSON.stringify(text)}`);
  return text;
}

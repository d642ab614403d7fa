const PERCENT_ESCAPE_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/**
 * Decodes a URL-encoded ESL header value. Unlike decodeURIComponent (which modesl uses) it never throws:
 * a `%` not followed by two hex digits is kept literally, and escaped bytes that are not valid UTF-8 become
 * U+FFFD. `+` stays `+`: FreeSWITCH encodes a space as %20 and a plus as %2B.
 */
export function decodeHeaderValue(raw: string): string {
  if (!raw.includes('%')) return raw;
  return raw.replace(PERCENT_ESCAPE_RUN, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

/**
 * Parses a block of `Name: value` lines (a message's headers, or an event-plain body's headers) into a map
 * with decoded values. CRs are ignored; lines without a colon are skipped; a repeated name keeps the last value.
 */
export function parseHeaderBlock(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const value = line.slice(colon + 1);
    headers[line.slice(0, colon)] = decodeHeaderValue(value.startsWith(' ') ? value.slice(1) : value);
  }
  return headers;
}

import type { Connection, Parser } from 'modesl';
import { parseHeaderBlock } from './header-decoding';

/**
 * modesl decodes header values with decodeURIComponent inside the socket's 'data' handler: one stray `%`
 * throws there and crashes the process. Swap in a decoder that cannot throw.
 */
function guardHeaderParsing(parser: Parser): void {
  parser._parseHeaderText = (text) => {
    const headers: Record<string, string | number> = parseHeaderBlock(text);
    const contentLength = headers['Content-Length'];
    // modesl reads the body length from a number here
    if (typeof contentLength === 'string') headers['Content-Length'] = Number.parseInt(contentLength, 10);
    return headers;
  };
}

/** Neutralises modesl's quirks on a freshly constructed connection (before any byte is read). */
export function hardenModeslConnection(connection: Connection): void {
  // modesl's own inbound reconnect loop retries forever, even on a refused connection, behind our back;
  // ReconnectingEslClient owns reconnection instead.
  connection.closing = true;
  // Outbound connections create their parser in the constructor, inbound ones on TCP connect.
  if (connection.parser) guardHeaderParsing(connection.parser);
  connection.on('esl::connect', () => {
    if (connection.parser) guardHeaderParsing(connection.parser);
  });
}

import type { Connection, Parser } from 'modesl';
import { parseHeaderBlock } from './header-decoding';

/** Called once when a frame cannot be parsed: the framing is lost, so the connection has to go. */
export type MalformedFrameHandler = (error: Error) => void;

// Bounds on one frame, so a peer cannot make the parser buffer without end (api output can be large).
const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * modesl decodes header values with decodeURIComponent inside the socket's 'data' handler: one stray `%`
 * throws there and crashes the process. Swap in a decoder that cannot throw, and refuse a Content-Length
 * that is not a byte count (modesl would misread the stream from there on).
 */
function guardHeaderParsing(parser: Parser): void {
  parser._parseHeaderText = (text) => {
    const headers: Record<string, string | number> = parseHeaderBlock(text);
    const contentLength = headers['Content-Length'];
    if (contentLength === undefined) return headers;
    if (typeof contentLength !== 'string' || !/^\d+$/.test(contentLength) || Number(contentLength) > MAX_BODY_BYTES) {
      throw new Error(`a frame has an invalid Content-Length: ${JSON.stringify(String(contentLength)).slice(0, 40)}`);
    }
    // modesl reads the body length from a number here
    headers['Content-Length'] = Number(contentLength);
    return headers;
  };
}

/**
 * Everything modesl does with received bytes (framing, body parsing, emitting events to listeners) runs
 * synchronously inside the socket's 'data' handler, where any exception kills the process. Run it under a
 * guard instead: a frame that throws is reported once and the parser stops reading.
 */
function containParser(parser: Parser, onMalformed: MalformedFrameHandler): void {
  let failed = false;
  const guard = (step: () => void): void => {
    if (failed) return;
    try {
      step();
      if (parser.bodyLen === 0 && parser.buffer.length > MAX_HEADER_BLOCK_BYTES) {
        throw new Error(`a frame's headers exceed ${MAX_HEADER_BLOCK_BYTES} bytes`);
      }
    } catch (error) {
      failed = true;
      parser.buffer = Buffer.alloc(0);
      onMalformed(error instanceof Error ? error : new Error(String(error)));
    }
  };
  const parseHeaders = parser._parseHeaders.bind(parser);
  const parseBody = parser._parseBody.bind(parser);
  const parsePlainBody = parser._parsePlainBody.bind(parser);
  parser._parseHeaders = () => guard(parseHeaders);
  parser._parseBody = () => guard(parseBody);
  // An event-plain frame without a body has no event in it: skip it rather than let modesl read a missing body.
  parser._parsePlainBody = (text) => parsePlainBody(text ?? '');
  // runtime/esl never asks for XML events, and modesl's XML handling throws on most input: skip them.
  parser._parseXmlBody = () => ({});
}

/**
 * Neutralises modesl's quirks on a freshly constructed connection (before any byte is read). `onMalformed`
 * is called, at most once, if a received frame cannot be parsed; the caller should then drop the connection.
 */
export function hardenModeslConnection(connection: Connection, onMalformed: MalformedFrameHandler): void {
  // modesl's own inbound reconnect loop retries forever, even on a refused connection, behind our back;
  // ReconnectingEslClient owns reconnection instead.
  connection.closing = true;
  const harden = (parser: Parser): void => {
    guardHeaderParsing(parser);
    containParser(parser, onMalformed);
  };
  // Outbound connections create their parser in the constructor, inbound ones on TCP connect.
  if (connection.parser) harden(connection.parser);
  connection.on('esl::connect', () => {
    if (connection.parser) harden(connection.parser);
  });
}

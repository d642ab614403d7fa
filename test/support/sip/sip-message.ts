import { waitFor } from '../wait-for';

/** SIP messages written and read by hand in tests, where SIPp cannot go (TLS, SRTP offers). */

export interface SipMessage {
  /** Request line or status line. */
  readonly firstLine: string;
  /** Header values by lowercase name, in order of appearance. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: string;
}

export interface SipRequestParts {
  readonly method: string;
  readonly uri: string;
  /** Headers in order; Content-Length is added. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: string;
}

export function sipRequest({ method, uri, headers, body = '' }: SipRequestParts): string {
  const lines = [`${method} ${uri} SIP/2.0`, ...headers.map(([name, value]) => `${name}: ${value}`), `Content-Length: ${Buffer.byteLength(body)}`];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** SDP of a caller at `address`:`port` offering PCMU, as RTP/SAVP with one SDES key when `crypto` is given. */
export function audioOffer(address: string, port: number, crypto?: string): string {
  return [
    'v=0',
    `o=caller 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} ${crypto ? 'RTP/SAVP' : 'RTP/AVP'} 0`,
    'a=rtpmap:0 PCMU/8000',
    ...(crypto ? [`a=crypto:1 ${crypto}`] : []),
    '',
  ].join('\r\n');
}

/**
 * Splits a byte stream (TCP, TLS) or a datagram into the complete messages it holds, framed by Content-Length;
 * `rest` is the start of a message still arriving.
 */
export function splitSipMessages(buffer: string): { messages: SipMessage[]; rest: string } {
  const messages: SipMessage[] = [];
  let rest = buffer.replace(/^(\r\n)+/, '');
  for (;;) {
    const headerEnd = rest.indexOf('\r\n\r\n');
    if (headerEnd < 0) break;
    const [firstLine, ...headerLines] = rest.slice(0, headerEnd).split('\r\n');
    const headers = new Map<string, string[]>();
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    const length = Number(headers.get('content-length')?.[0] ?? headers.get('l')?.[0] ?? 0);
    const bodyStart = headerEnd + 4;
    if (Buffer.byteLength(rest.slice(bodyStart)) < length) break;
    const body = Buffer.from(rest.slice(bodyStart)).subarray(0, length).toString();
    messages.push({ firstLine, headers, body });
    rest = rest.slice(bodyStart + body.length).replace(/^(\r\n)+/, '');
  }
  return { messages, rest };
}

/** The first value of header `name` (case-insensitive), or ''. */
export function header(message: SipMessage, name: string): string {
  return message.headers.get(name.toLowerCase())?.[0] ?? '';
}

/** Every Record-Route entry of a message, in order, comma-joined values split. */
export function recordRoutes(message: SipMessage): string[] {
  return (message.headers.get('record-route') ?? []).flatMap((value) => value.split(/,(?=\s*<)/).map((entry) => entry.trim()));
}

/** The URI inside the first `<...>` of a header value. */
export function uriOf(value: string): string {
  return /<([^>]+)>/.exec(value)?.[1] ?? value;
}

/** The first of `received` (a list that grows as messages arrive) that `matches`, waiting up to `timeoutMs`; the error lists what did arrive. */
export async function awaitSipMessage(received: readonly SipMessage[], matches: (message: SipMessage) => boolean, timeoutMs: number, what: string): Promise<SipMessage> {
  let found: SipMessage | undefined;
  try {
    await waitFor(() => (found = received.find(matches)) !== undefined, { timeoutMs, intervalMs: 20, message: what });
  } catch (error) {
    throw new Error(`${(error as Error).message}; received: ${received.map((message) => message.firstLine).join(' | ') || 'nothing'}`);
  }
  return found!;
}

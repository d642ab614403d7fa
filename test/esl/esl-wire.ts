// The FreeSWITCH side of the ESL wire format (see /work/shared/ESL-FACTS.md), for scripted test peers.

export const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

export interface ReceivedCommand {
  readonly line: string;
  readonly headers: Record<string, string>;
}

export const AUTH_REQUEST = 'Content-Type: auth/request\n\n';

export function apiResponse(body: string): string {
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

export function commandReply(replyText: string, extraHeaders: Record<string, string> = {}): string {
  const extra = Object.entries(extraHeaders).map(([name, value]) => `${name}: ${value}\n`);
  return `Content-Type: command/reply\n${extra.join('')}Reply-Text: ${replyText}\n\n`;
}

/** An event-plain message from header lines written as-is (values must already be URL-encoded). */
export function plainEventFromLines(lines: readonly string[], body?: string): string {
  const headerText = lines.map((line) => `${line}\n`).join('');
  const inner = body === undefined ? `${headerText}\n` : `${headerText}Content-Length: ${Buffer.byteLength(body)}\n\n${body}`;
  return `Content-Length: ${Buffer.byteLength(inner)}\nContent-Type: text/event-plain\n\n${inner}`;
}

export function plainEvent(headers: Record<string, string>, body?: string): string {
  return plainEventFromLines(
    Object.entries(headers).map(([name, value]) => `${name}: ${encodeURIComponent(value)}`),
    body,
  );
}

export function jsonEvent(fields: Record<string, unknown>): string {
  const json = JSON.stringify(fields);
  return `Content-Length: ${Buffer.byteLength(json)}\nContent-Type: text/event-json\n\n${json}`;
}

export function disconnectNotice(disposition?: 'disconnect' | 'linger', text = GOODBYE): string {
  const dispositionLine = disposition ? `Content-Disposition: ${disposition}\n` : '';
  return `Content-Type: text/disconnect-notice\n${dispositionLine}Content-Length: ${Buffer.byteLength(text)}\n\n${text}`;
}

/** The reply to `connect` on an outbound socket: URL-encoded CHANNEL_DATA headers, no Content-Length. */
export function channelDataReply(headers: Record<string, string>, socketMode = 'async'): string {
  const lines = Object.entries({ 'Event-Name': 'CHANNEL_DATA', ...headers }).map(
    ([name, value]) => `${name}: ${encodeURIComponent(value)}\n`,
  );
  return `${lines.join('')}Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: ${socketMode}\nControl: full\n\n`;
}

/** Splits the bytes a client writes into commands: a first line, header lines, then a blank line. */
export class CommandReader {
  private buffer = '';

  push(chunk: string): ReceivedCommand[] {
    this.buffer += chunk;
    const commands: ReceivedCommand[] = [];
    for (let end = this.buffer.indexOf('\n\n'); end !== -1; end = this.buffer.indexOf('\n\n')) {
      const [line, ...headerLines] = this.buffer.slice(0, end).split('\n');
      this.buffer = this.buffer.slice(end + 2);
      const headers: Record<string, string> = {};
      for (const headerLine of headerLines) {
        const colon = headerLine.indexOf(': ');
        headers[headerLine.slice(0, colon)] = headerLine.slice(colon + 2);
      }
      commands.push({ line, headers });
    }
    return commands;
  }
}

import { EventFormat } from './event-serializer';

/** Frames FreeSWITCH writes on an event socket, byte for byte as mod_event_socket.c formats them. */

export const GOODBYE_MESSAGE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
export const SHUTDOWN_MESSAGE = 'The system is being shut down.\n';
const REJECTION_MESSAGE = 'Access Denied, go away.\n';

export const AUTH_REQUEST_FRAME = 'Content-Type: auth/request\n\n';

export function commandReplyFrame(replyText: string): string {
  return `Content-Type: command/reply\nReply-Text: ${replyText}\n\n`;
}

/** A reply whose header block the command wrote itself (the `~` replies in parse_command, e.g. bgapi). */
export function commandReplyWithHeadersFrame(headerLines: string): string {
  return `Content-Type: command/reply\n${headerLines}\n`;
}

export function apiResponseFrame(body: string): string {
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

export function eventFrame(format: EventFormat, serialized: string): string {
  return `Content-Length: ${Buffer.byteLength(serialized)}\nContent-Type: text/event-${format}\n\n${serialized}`;
}

export function disconnectNoticeFrame(message: string, controlledSessionUuid?: string): string {
  const length = Buffer.byteLength(message);
  if (controlledSessionUuid === undefined) {
    return `Content-Type: text/disconnect-notice\nContent-Length: ${length}\n\n${message}`;
  }
  return (
    'Content-Type: text/disconnect-notice\n' +
    `Controlled-Session-UUID: ${controlledSessionUuid}\n` +
    'Content-Disposition: disconnect\n' +
    `Content-Length: ${length}\n\n${message}`
  );
}

/** Sent to a lingering outbound socket when its channel hangs up; -1 means "until the client leaves". */
export function lingerNoticeFrame(controlledSessionUuid: string, channelName: string, lingerSeconds: number): string {
  return (
    'Content-Type: text/disconnect-notice\n' +
    `Controlled-Session-UUID: ${controlledSessionUuid}\n` +
    'Content-Disposition: linger\n' +
    `Channel-Name: ${channelName}\n` +
    `Linger-Time: ${lingerSeconds}\n` +
    'Content-Length: 0\n\n'
  );
}

export const RUDE_REJECTION_FRAME = `Content-Type: text/rude-rejection\nContent-Length: ${Buffer.byteLength(
  REJECTION_MESSAGE
)}\n\n${REJECTION_MESSAGE}`;

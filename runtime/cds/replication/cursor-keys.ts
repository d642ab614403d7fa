import type { UpstreamCursor } from '../store/cds-store';

/** Keys of the delivery cursors saved through DeferredWrites: one pending write per cursor. */

/** Owner: how far `site` has received a call's entries. */
export function participantCursorKey(callId: string, site: string): string {
  return `${callId}#S#${site}`;
}

/** Participant: how far this site has received the owner's entries, or had its own acknowledged. */
export function upstreamCursorKey(callId: string, cursor: UpstreamCursor): string {
  return `${callId}#U#${cursor}`;
}

import { CallRecord } from '../call/call-record';
import type { StoredCall } from './cds-store';
import type { HlcTimestamp } from '../clock/hlc';
import { fromStoredUpstream, type OwnerRegistration } from '../replication/owner-registration';

/**
 * A call as this node tracks it: its data, the local clients registered for it, and either the remote
 * participant sites with their delivery cursors (this node owns the call) or this node's registration with
 * the owner (`upstream`, a foreign call).
 */
export class TrackedCall {
  readonly clients = new Set<string>();
  readonly participants = new Map<string, { ackedTs: HlcTimestamp }>();
  /** A foreign call: this site's registration with the owner. */
  upstream?: OwnerRegistration;
  /** Owner: ended, but participants' writes racing the end are still taken until the record is sealed. */
  finishing = false;
  /** Wall-clock ms when the call was opened here (unknown for calls stored before it was recorded). */
  openedAt?: number;
  /** Wall-clock ms of the last use, for the eviction of idle calls. */
  lastUsedAt = 0;

  constructor(readonly record: CallRecord) {}

  static fromStored(stored: StoredCall): TrackedCall {
    const call = new TrackedCall(new CallRecord(stored.meta.callId, stored.meta.owner, stored.meta.state));
    call.record.endedTs = stored.meta.endedTs;
    call.openedAt = stored.meta.openedAt;
    call.record.apply(stored.entries);
    stored.clients.forEach((client) => call.clients.add(client));
    stored.participants.forEach((participant) => call.participants.set(participant.site, { ackedTs: participant.ackedTs }));
    call.upstream = stored.upstream && fromStoredUpstream(stored.upstream);
    return call;
  }

  get callId(): string {
    return this.record.callId;
  }

  get owner(): string {
    return this.record.owner;
  }

  get ended(): boolean {
    return this.record.state === 'ended';
  }

  /** Someone still wants this call's data: a local client or (at the owner) a remote participant. */
  get hasInterest(): boolean {
    return this.clients.size > 0 || this.participants.size > 0;
  }
}

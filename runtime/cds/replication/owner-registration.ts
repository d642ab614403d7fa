import type { StoredUpstream } from '../store/cds-store';
import type { HlcTimestamp } from '../clock/hlc';

/**
 * Where this site stands with the owner of a foreign call:
 * - `unregistered`: no local client wants the call any more (or never registered);
 * - `requested`: a registration is on its way (durable, retried), the owner has not answered it yet;
 * - `confirmed`: the owner answered the latest registration;
 * - `expired`: the owner was silent past the expiry, so it has dropped this site; registering again (with
 *   `receivedTs`) catches up.
 */
export type RegistrationStatus = 'unregistered' | 'requested' | 'confirmed' | 'expired';

/** This site's registration with the owner of a foreign call, and its two cursors (see StoredUpstream). */
export interface OwnerRegistration {
  readonly status: RegistrationStatus;
  readonly receivedTs: HlcTimestamp;
  readonly ackedTs: HlcTimestamp;
}

/** The site wants the owner's updates: it has asked, or the owner has answered. */
export function isRegistering(registration: OwnerRegistration | undefined): boolean {
  return registration?.status === 'requested' || registration?.status === 'confirmed';
}

/** The status as stored and as the local API shows it: a registration asked for counts as registered. */
export function durableStatus(status: RegistrationStatus): StoredUpstream['status'] {
  return status === 'requested' || status === 'confirmed' ? 'registered' : status;
}

export function toStoredUpstream(registration: OwnerRegistration): StoredUpstream {
  return { status: durableStatus(registration.status), receivedTs: registration.receivedTs, ackedTs: registration.ackedTs };
}

/** After a restart a stored registration is asked for again: the owner's answer to it may have been lost. */
export function fromStoredUpstream(stored: StoredUpstream): OwnerRegistration {
  return { ...stored, status: stored.status === 'registered' ? 'requested' : stored.status };
}

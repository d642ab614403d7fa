import type { StoredUpstream } from '../store/cds-store';
import type { HlcTimestamp } from '../clock/hlc';

/**
 * Where this site stands with the owner of a foreign call:
 * - `unregistered`: no local client wants the call any more (or never registered);
 * - `requested`: a registration is on its way (durable, retried), the owner has not answered it yet;
 * - `confirmed`: the owner answered the latest registration;
 * - `pending`: the owner does not know the call yet (a local client came before the owner's collector saw it);
 *   the registration is asked for again, with backoff, until the owner has the call or the call ends here;
 * - `expired`: the owner was silent past the expiry, so it has dropped this site; registering again (with
 *   `receivedTs`) catches up.
 */
export type RegistrationStatus = 'unregistered' | 'requested' | 'pending' | 'confirmed' | 'expired';

/** This site's registration with the owner of a foreign call, and its two cursors (see StoredUpstream). */
export interface OwnerRegistration {
  readonly status: RegistrationStatus;
  readonly receivedTs: HlcTimestamp;
  readonly ackedTs: HlcTimestamp;
}

/** The site wants the owner's updates: it has asked (or will ask again), or the owner has answered. */
export function isRegistering(registration: OwnerRegistration | undefined): boolean {
  return registration?.status === 'requested' || registration?.status === 'pending' || registration?.status === 'confirmed';
}

/** The status as stored: a registration asked for counts as registered (after a restart it is asked for again). */
export function durableStatus(status: RegistrationStatus): StoredUpstream['status'] {
  return status === 'requested' || status === 'pending' || status === 'confirmed' ? 'registered' : status;
}

/** The status as the local API shows it: as stored, but `pending` while the owner does not know the call yet. */
export function clientStatus(status: RegistrationStatus): StoredUpstream['status'] | 'pending' {
  return status === 'pending' ? 'pending' : durableStatus(status);
}

export function toStoredUpstream(registration: OwnerRegistration): StoredUpstream {
  return { status: durableStatus(registration.status), receivedTs: registration.receivedTs, ackedTs: registration.ackedTs };
}

/** After a restart a stored registration is asked for again: the owner's answer to it may have been lost. */
export function fromStoredUpstream(stored: StoredUpstream): OwnerRegistration {
  return { ...stored, status: stored.status === 'registered' ? 'requested' : stored.status };
}

import type { CallContext } from './call-context';

/**
 * The logic of one call. It runs after the service has told the dialplan it took the call. If it throws while the
 * call is up, the call is detached (never hung up): FreeSWITCH keeps it and the dialplan hands it on. When it
 * returns, the call stays with this service until it ends.
 */
export type CallFlow = (call: CallContext) => Promise<void>;

import { z } from 'zod';

/**
 * The bearer token of a site's Kamailio RPC sockets. Kamailio executes a JSON-RPC request only when its
 * `Authorization` header is `Bearer <token>`, compared whole against the definition the node's boot writes from the
 * site's secret into the file kamailio.cfg includes; the token itself is never in kamailio.cfg or user data.
 */

/** Characters of an RFC 6750 bearer token, at least 32: nothing that could end a header or a quoted cfg string. */
export const RPC_TOKEN_PATTERN = '[A-Za-z0-9._~+/=-]{32,512}';
export const RPC_TOKEN_DESCRIPTION = '32 to 512 of A-Z a-z 0-9 . _ ~ + / = -';

export const rpcTokenSchema = z.string().regex(new RegExp(`^${RPC_TOKEN_PATTERN}$`), `not an RPC token (${RPC_TOKEN_DESCRIPTION})`);

/** Name kamailio.cfg compares the request's `Authorization` header with. */
export const RPC_AUTHORIZATION_DEFINE = 'SIP_RPC_AUTHORIZATION';

/** The `Authorization` header value of a request carrying `token`. */
export function rpcAuthorization(token: string): string {
  return `Bearer ${token}`;
}

/** The content of the file at `rpcTokenPath` for `token` (the boot writes the same line with printf). */
export function renderRpcTokenInclude(token: string): string {
  return `#!define ${RPC_AUTHORIZATION_DEFINE} "${rpcAuthorization(rpcTokenSchema.parse(token))}"\n`;
}

import { createHash } from 'crypto';
import { z } from 'zod';

/**
 * The bearer token of a site's Kamailio RPC sockets. Kamailio executes a JSON-RPC request only when the SHA-256 of
 * its `Authorization` header equals that of `Bearer <token>`, which the node's boot writes from the site's secret into
 * the file kamailio.cfg includes: comparing digests, the time a wrong header takes to refuse tells nothing about the
 * token (kamailio.cfg has no constant-time comparison of strings), and neither kamailio.cfg, user data nor that file
 * holds the token itself.
 */

/** Characters of an RFC 6750 bearer token, at least 32: nothing that could end a header or a quoted cfg string. */
export const RPC_TOKEN_PATTERN = '[A-Za-z0-9._~+/=-]{32,512}';
export const RPC_TOKEN_DESCRIPTION = '32 to 512 of A-Z a-z 0-9 . _ ~ + / = -';

export const rpcTokenSchema = z.string().regex(new RegExp(`^${RPC_TOKEN_PATTERN}$`), `not an RPC token (${RPC_TOKEN_DESCRIPTION})`);

/** Name of the hex SHA-256 kamailio.cfg compares the SHA-256 of a request's `Authorization` header with. */
export const RPC_AUTHORIZATION_DEFINE = 'SIP_RPC_AUTHORIZATION_SHA256';

/** The `Authorization` header value of a request carrying `token`. */
export function rpcAuthorization(token: string): string {
  return `Bearer ${token}`;
}

/** The content of the file at `rpcTokenPath` for `token` (the boot writes the same line with printf and sha256sum). */
export function renderRpcTokenInclude(token: string): string {
  const digest = createHash('sha256').update(rpcAuthorization(rpcTokenSchema.parse(token))).digest('hex');
  return `#!define ${RPC_AUTHORIZATION_DEFINE} "${digest}"\n`;
}

import { hash, timingSafeEqual } from 'crypto';
import type { IncomingMessage } from 'http';
import { CdsRequestError } from '../call/cds-errors';

/** A shorter token is refused: it would be the weakest secret of the site (the peer key has the same floor). */
export const MIN_LOCAL_TOKEN_BYTES = 32;

/** What a bearer token may hold in an HTTP header: visible ASCII, no spaces (e.g. `openssl rand -hex 32`). */
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

/** Why `token` cannot be the site's local API token, if it cannot. */
export function localTokenProblem(token: string): string | undefined {
  if (!TOKEN_PATTERN.test(token)) return 'must be visible ASCII characters without spaces';
  if (Buffer.byteLength(token) < MIN_LOCAL_TOKEN_BYTES) return `is shorter than ${MIN_LOCAL_TOKEN_BYTES} bytes`;
  return undefined;
}

/**
 * The site's local API token: every local client sends `Authorization: Bearer <token>`. Compared through
 * fixed-length digests, so the time taken tells nothing of the token or its length.
 */
export class LocalToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    const problem = localTokenProblem(token);
    if (problem) throw new Error(`the local API token ${problem}`);
    this.digest = digestOf(Buffer.from(token));
  }

  /** Refuses (401, one line) a request that does not carry the token; reads only its headers. */
  authenticate(request: IncomingMessage): void {
    const header = request.headers.authorization;
    if (header === undefined) throw refuse('no Authorization header (Bearer <the site token>)');
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
    if (!match) throw refuse('Authorization is not "Bearer <token>"');
    if (!timingSafeEqual(digestOf(Buffer.from(match[1])), this.digest)) throw refuse('wrong token');
  }
}

function digestOf(token: Buffer): Buffer {
  // The one-shot hash: a Hash object per request cost more than the rest of the authentication.
  return hash('sha256', token, 'buffer');
}

function refuse(why: string): CdsRequestError {
  return new CdsRequestError(401, `unauthenticated: ${why}`, 'unauthenticated');
}

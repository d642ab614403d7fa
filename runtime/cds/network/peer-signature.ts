import { createHash, createHmac, timingSafeEqual } from 'crypto';

/** Headers of an authenticated site-to-site request. */
export const PEER_HEADERS = {
  site: 'x-cds-site',
  timestamp: 'x-cds-timestamp',
  nonce: 'x-cds-nonce',
  signature: 'x-cds-signature',
} as const;

export interface SignedParts {
  readonly method: string;
  readonly path: string;
  readonly site: string;
  /** Sender's clock, milliseconds since the epoch. */
  readonly timestamp: string;
  readonly nonce: string;
  readonly body: Buffer | string;
}

/** HMAC-SHA256 (hex) with the shared key over method, path, sender, timestamp, nonce and the body's SHA-256. */
export function peerSignature(key: Buffer, parts: SignedParts): string {
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  return createHmac('sha256', key).update([parts.method.toUpperCase(), parts.path, parts.site, parts.timestamp, parts.nonce, bodyHash].join('\n')).digest('hex');
}

export function signatureMatches(key: Buffer, parts: SignedParts, signature: string): boolean {
  const expected = Buffer.from(peerSignature(key, parts), 'hex');
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

import { createHash, sign, verify, type KeyObject } from 'crypto';

/** Headers of an authenticated site-to-site request. */
export const PEER_HEADERS = {
  site: 'x-cds-site',
  receiver: 'x-cds-receiver',
  timestamp: 'x-cds-timestamp',
  nonce: 'x-cds-nonce',
  signature: 'x-cds-signature',
} as const;

export interface SignedParts {
  readonly method: string;
  readonly path: string;
  /** The sending site. */
  readonly site: string;
  /** The site the request is for: a request captured on its way to one site is refused by every other. */
  readonly receiver: string;
  /** Milliseconds since the epoch, on the receiver's clock as the sender estimates it. */
  readonly timestamp: string;
  readonly nonce: string;
  readonly body: Buffer | string;
}

/** Length of the hex Ed25519 signature. */
export const SIGNATURE_HEX_LENGTH = 128;

function signedText(parts: SignedParts): Buffer {
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  return Buffer.from([parts.method.toUpperCase(), parts.path, parts.site, parts.receiver, parts.timestamp, parts.nonce, bodyHash].join('\n'));
}

/** Ed25519 signature (hex) by the sender's private key over method, path, sender, receiver, timestamp, nonce and the body's SHA-256. */
export function peerSignature(privateKey: KeyObject, parts: SignedParts): string {
  return sign(null, signedText(parts), privateKey).toString('hex');
}

/** Whether `signature` is the claimed sender's (checked with its public key) over exactly these parts. */
export function signatureMatches(publicKey: KeyObject, parts: SignedParts, signature: string): boolean {
  return verify(null, signedText(parts), publicKey, Buffer.from(signature, 'hex'));
}

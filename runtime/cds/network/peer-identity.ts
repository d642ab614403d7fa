import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'crypto';
import { z } from 'zod';

/**
 * A site's CDS identity: an Ed25519 key pair. The site signs its peer requests with its private key (held in its
 * own secret); every other site knows its public key (from the topology), so no site can sign as another.
 * Public keys travel as base64 SPKI DER (`MCowBQYDK2VwAyEA...`, 60 characters): one token fits a flag and a JSON field.
 */

const ED25519 = 'ed25519';

/** A public key in its text form, or why the text is not one. */
export function parsePeerPublicKey(text: string): KeyObject | string {
  const body = text
    .replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '')
    .replace(/\s+/g, '')
    .trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return 'must be an Ed25519 public key (base64 SPKI DER, as `voiceplane cds keygen` prints)';
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(body, 'base64'), format: 'der', type: 'spki' });
  } catch {
    return 'must be an Ed25519 public key (base64 SPKI DER, as `voiceplane cds keygen` prints)';
  }
  return key.asymmetricKeyType === ED25519 ? key : `is a ${key.asymmetricKeyType ?? 'non-Ed25519'} key, not an Ed25519 one`;
}

/** A private key (PKCS#8 PEM, as `voiceplane cds keygen` writes), or why the text is not one. */
export function parsePeerPrivateKey(pem: string): KeyObject | string {
  if (!pem.includes('-----BEGIN PRIVATE KEY-----')) return 'must be an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)';
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return 'is not a readable PKCS#8 PEM private key';
  }
  return key.asymmetricKeyType === ED25519 ? key : `is a ${key.asymmetricKeyType ?? 'non-Ed25519'} key, not an Ed25519 one`;
}

/** The text form of a public key (base64 SPKI DER). */
export function formatPeerPublicKey(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** The public key that goes with a private key. */
export function publicKeyOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}

/** A new identity: the private key as PKCS#8 PEM (for the site's secret) and the public key's text form (for the topology). */
export function generatePeerIdentity(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync(ED25519);
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: formatPeerPublicKey(publicKey) };
}

/** A public key's text form, validated (it stays text: the constructs put it into a command line). */
export const peerPublicKeySchema = z.string().superRefine((value, ctx) => {
  const parsed = parsePeerPublicKey(value);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

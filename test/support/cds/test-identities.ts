import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'crypto';
import { formatPeerPublicKey } from '../../../runtime/cds/network/peer-identity';

/** PKCS#8 DER of an Ed25519 private key, less its 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The CDS identity of a test site: its Ed25519 private key, the same in every run (child processes read it from a file). */
export function testPrivateKey(site: string): KeyObject {
  const seed = createHash('sha256').update(`voiceplane test site ${site}`).digest();
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function testPublicKey(site: string): KeyObject {
  return createPublicKey(testPrivateKey(site));
}

/** As `cds serve --peer-key-file` reads it. */
export function testPrivateKeyPem(site: string): string {
  return testPrivateKey(site).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** As the topology and `cds serve --peer-public-key` take it. */
export function testPublicKeyText(site: string): string {
  return formatPeerPublicKey(testPublicKey(site));
}

/** The public keys of these sites, as a node's `peerPublicKeys`. */
export function testPeerPublicKeys(sites: Iterable<string>): Map<string, KeyObject> {
  return new Map([...sites].map((site) => [site, testPublicKey(site)]));
}

import { createPublicKey, type KeyObject } from 'crypto';
import { deterministicEd25519Key } from '../../../stacks/generate-topology';
import { formatPeerPublicKey } from '../../../runtime/cds/network/peer-identity';

/** The CDS identity of a test site: its Ed25519 private key, the same in every run (child processes read it from a file). */
export function testPrivateKey(site: string): KeyObject {
  return deterministicEd25519Key(`voiceplane test site ${site}`);
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

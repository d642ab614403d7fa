import { randomUUID } from 'crypto';
import { PEER_HEADERS, peerSignature } from '../../../runtime/cds/network/peer-signature';
import { cdsRequest, type CdsResponse } from './cds-http';
import { testPrivateKey } from './test-identities';

export interface SignedRequest {
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

export interface SigningOptions {
  readonly timestamp?: number;
  readonly nonce?: string;
  /** The key that signs. @default the sender's own (its test identity) */
  readonly signingSite?: string;
}

/** Builds a peer request as site `site` would send it to `receiver` (tests tamper with it or send it twice). */
export function signPeerRequest(site: string, receiver: string, path: string, body: unknown, options: SigningOptions = {}): SignedRequest {
  const payload = Buffer.from(JSON.stringify(body));
  return { path, body: payload, headers: signedPeerHeaders(site, receiver, path, payload, options) };
}

/** The signature headers of a POST of `body` (any bytes) from `site` to `receiver`. */
export function signedPeerHeaders(site: string, receiver: string, path: string, body: Buffer, { timestamp = Date.now(), nonce = randomUUID() as string, signingSite = site }: SigningOptions = {}): Record<string, string> {
  const stamp = String(timestamp);
  return {
    [PEER_HEADERS.site]: site,
    [PEER_HEADERS.receiver]: receiver,
    [PEER_HEADERS.timestamp]: stamp,
    [PEER_HEADERS.nonce]: nonce,
    [PEER_HEADERS.signature]: peerSignature(testPrivateKey(signingSite), { method: 'POST', path, site, receiver, timestamp: stamp, nonce, body }),
  };
}

export function sendSigned(port: number, request: SignedRequest): Promise<CdsResponse> {
  return cdsRequest(port, 'POST', request.path, request.body, request.headers);
}

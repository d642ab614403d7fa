import { randomUUID } from 'crypto';
import { PEER_HEADERS, peerSignature } from '../../../runtime/cds/network/peer-signature';
import { cdsRequest, type CdsResponse } from './cds-http';

export interface SignedRequest {
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/** Builds a peer request as site `site` would send it (tests tamper with it or send it twice). */
export function signPeerRequest(key: Buffer, site: string, path: string, body: unknown, { timestamp = Date.now(), nonce = randomUUID() as string }: { timestamp?: number; nonce?: string } = {}): SignedRequest {
  const payload = Buffer.from(JSON.stringify(body));
  const stamp = String(timestamp);
  return {
    path,
    body: payload,
    headers: {
      [PEER_HEADERS.site]: site,
      [PEER_HEADERS.timestamp]: stamp,
      [PEER_HEADERS.nonce]: nonce,
      [PEER_HEADERS.signature]: peerSignature(key, { method: 'POST', path, site, timestamp: stamp, nonce, body: payload }),
    },
  };
}

export function sendSigned(port: number, request: SignedRequest): Promise<CdsResponse> {
  return cdsRequest(port, 'POST', request.path, request.body, request.headers);
}

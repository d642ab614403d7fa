import type { KeyObject } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import type { z } from 'zod';
import type { CdsClock } from '../clock/cds-clock';
import { CdsRequestError } from '../call/cds-errors';
import type { PeerAction } from './cds-routes';
import { parseJsonBody, readRequestBody, sendJson } from './http-body';
import type { NetworkProxy } from '../network/network-proxy';
import type { NonceCache } from './nonce-cache';
import {
  STALE_REQUEST,
  endRequestSchema,
  heartbeatRequestSchema,
  registerRequestSchema,
  unregisterRequestSchema,
  updatesBatchRequestSchema,
  updatesRequestSchema,
} from '../network/peer-messages';
import { PEER_HEADERS, SIGNATURE_HEX_LENGTH, signatureMatches } from '../network/peer-signature';

export interface PeerApiOptions {
  /** This site: the receiver every request must be signed for. */
  readonly site: string;
  /** The admitted peers: site id -> its public key. */
  readonly peerKeys: ReadonlyMap<string, KeyObject>;
  readonly clock: CdsClock;
  /** Largest accepted difference between a request's timestamp and this node's clock. */
  readonly clockWindowMs: number;
  /** Nonces seen, and the floor below which requests are refused as stale (the process's start at first). */
  readonly nonces: NonceCache;
  readonly proxy: NetworkProxy;
  /** An authenticated request arrived from `site`. */
  readonly heard: (site: string) => void;
}

/**
 * Bound on a peer request body. The largest message a site sends is an updates message or batch: at most 1 MiB of
 * entries (`updateChunks`; one entry is at most ~33 KB) or of deltas (`UpdateBatcher`), their separators and
 * envelopes, about 1.05 MB in all (measured by the tests); the rest is margin. Every other peer message is under
 * 300 bytes.
 */
export const PEER_BODY_LIMIT_BYTES = 1.5 * 1024 * 1024;

/** Arrays and objects in a peer body: the updates batch envelope (5) around a value the local API took (at most 31). */
export const PEER_JSON_DEPTH_LIMIT = 64;

const NONCE_PATTERN = /^[A-Za-z0-9-]{16,128}$/;
const SIGNATURE_PATTERN = new RegExp(`^[0-9a-f]{${SIGNATURE_HEX_LENGTH}}$`);

/** The site-to-site API: every request signed by the sending site's key for this site, fresh, and never seen before. */
export class PeerApi {
  private readonly counts = new Map<string, number>();

  constructor(private readonly options: PeerApiOptions) {}

  /** Authenticated requests taken per path (a batch of updates counts once). */
  received(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  async handle(action: PeerAction, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = `/v1/peer/${action}`;
    // Headers first: an unknown sender, stale or malformed request is refused before any of its body is read.
    const claim = this.claimFrom(request);
    const body = await readRequestBody(request, PEER_BODY_LIMIT_BYTES);
    const site = this.verify(claim, request.method ?? '', path, body);
    this.counts.set(path, (this.counts.get(path) ?? 0) + 1);
    this.options.heard(site);
    const { proxy } = this.options;
    const parse = <T extends { site: string }>(schema: z.ZodType<T>): T => {
      const message = parseJsonBody(body, schema, PEER_JSON_DEPTH_LIMIT);
      if (message.site !== site) throw new CdsRequestError(400, `body.site: "${message.site}" is not the signed sender "${site}"`, 'malformed');
      return message;
    };
    switch (action) {
      case 'register':
        sendJson(response, 200, await proxy.handleRegister(parse(registerRequestSchema)));
        return;
      case 'unregister':
        sendJson(response, 200, await proxy.handleUnregister(parse(unregisterRequestSchema)));
        return;
      case 'updates':
        sendJson(response, 200, await proxy.handleUpdates(parse(updatesRequestSchema)));
        return;
      case 'updates-batch':
        sendJson(response, 200, await proxy.handleUpdatesBatch(parse(updatesBatchRequestSchema)));
        return;
      case 'heartbeat':
        parse(heartbeatRequestSchema);
        sendJson(response, 200, proxy.heartbeatReply());
        return;
      case 'end':
        sendJson(response, 200, await proxy.handleEnd(parse(endRequestSchema)));
        return;
    }
  }

  /** The signature headers, if they name a configured peer, are well-formed and within the clock window. */
  private claimFrom(request: IncomingMessage): SignatureClaim {
    const header = (name: string): string => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : '';
    };
    const claim = { site: header(PEER_HEADERS.site), timestamp: header(PEER_HEADERS.timestamp), nonce: header(PEER_HEADERS.nonce), signature: header(PEER_HEADERS.signature) };
    if (!this.options.peerKeys.has(claim.site)) throw refuse(`${PEER_HEADERS.site} "${claim.site}" is not a configured peer`);
    if (header(PEER_HEADERS.receiver) !== this.options.site) throw refuse(`${PEER_HEADERS.receiver} "${header(PEER_HEADERS.receiver)}" is not this site (${this.options.site})`);
    if (!/^[0-9]{1,16}$/.test(claim.timestamp)) throw refuse(`${PEER_HEADERS.timestamp} is missing or not milliseconds`);
    if (!NONCE_PATTERN.test(claim.nonce)) throw refuse(`${PEER_HEADERS.nonce} is missing or malformed`);
    if (!SIGNATURE_PATTERN.test(claim.signature)) throw refuse(`${PEER_HEADERS.signature} is missing or malformed`);
    if (Math.abs(this.options.clock.now() - Number(claim.timestamp)) > this.options.clockWindowMs) {
      throw refuse(`${PEER_HEADERS.timestamp} is more than ${this.options.clockWindowMs} ms from this site's clock`);
    }
    if (this.options.nonces.isStale(Number(claim.timestamp))) throw stale(this.options.nonces.floorMs);
    return claim;
  }

  /** The sending site, if the body is signed with its key for this site and the request is not a replay. */
  private verify(claim: SignatureClaim, method: string, path: string, body: Buffer): string {
    const { site, timestamp, nonce, signature } = claim;
    const publicKey = this.options.peerKeys.get(site);
    if (!publicKey || !signatureMatches(publicKey, { method, path, site, receiver: this.options.site, timestamp, nonce, body }, signature)) throw refuse(`bad signature (not ${site}'s key)`);
    const refusal = this.options.nonces.remember(nonce, Number(timestamp), this.options.clock.now());
    if (refusal === 'replayed') throw refuse('replayed request');
    if (refusal === 'stale') throw stale(this.options.nonces.floorMs);
    return site;
  }
}

interface SignatureClaim {
  readonly site: string;
  readonly timestamp: string;
  readonly nonce: string;
  readonly signature: string;
}

function refuse(why: string): CdsRequestError {
  return new CdsRequestError(401, `unauthenticated: ${why}`, 'unauthenticated');
}

/** Signed before this node could tell it from a replay (before it started, or before nonces it had to forget): the sender signs it again. */
function stale(floorMs: number): CdsRequestError {
  return new CdsRequestError(401, `stale request: ${PEER_HEADERS.timestamp} is before ${floorMs}, when this node started or last forgot nonces; sign it again with a later time`, STALE_REQUEST);
}

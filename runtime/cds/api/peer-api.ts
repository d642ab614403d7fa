import type { IncomingMessage, ServerResponse } from 'http';
import type { CdsClock } from '../clock/cds-clock';
import { CdsRequestError } from '../call/cds-errors';
import type { PeerAction } from './cds-routes';
import { parseJsonBody, readRequestBody, sendJson } from './http-body';
import type { NetworkProxy } from '../network/network-proxy';
import type { NonceCache } from './nonce-cache';
import { endRequestSchema, heartbeatRequestSchema, registerRequestSchema, unregisterRequestSchema, updatesRequestSchema } from '../network/peer-messages';
import { PEER_HEADERS, signatureMatches } from '../network/peer-signature';

export interface PeerApiOptions {
  readonly key: Buffer;
  readonly peers: ReadonlySet<string>;
  readonly clock: CdsClock;
  /** Largest accepted difference between a request's timestamp and this node's clock. */
  readonly clockWindowMs: number;
  readonly nonces: NonceCache;
  readonly proxy: NetworkProxy;
  readonly bodyLimitBytes: number;
  /** An authenticated request arrived from `site`. */
  readonly heard: (site: string) => void;
}

const NONCE_PATTERN = /^[A-Za-z0-9-]{16,128}$/;
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;

/** The site-to-site API: every request signed with the shared key, fresh, and never seen before. */
export class PeerApi {
  constructor(private readonly options: PeerApiOptions) {}

  async handle(action: PeerAction, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readRequestBody(request, this.options.bodyLimitBytes);
    const site = this.authenticate(request, `/v1/peer/${action}`, body);
    this.options.heard(site);
    const { proxy } = this.options;
    const fromSender = <T extends { site: string }>(message: T): T => {
      if (message.site !== site) throw new CdsRequestError(400, `body.site: "${message.site}" is not the signed sender "${site}"`, 'malformed');
      return message;
    };
    switch (action) {
      case 'register':
        sendJson(response, 200, await proxy.handleRegister(fromSender(parseJsonBody(body, registerRequestSchema))));
        return;
      case 'unregister':
        sendJson(response, 200, await proxy.handleUnregister(fromSender(parseJsonBody(body, unregisterRequestSchema))));
        return;
      case 'updates':
        sendJson(response, 200, await proxy.handleUpdates(fromSender(parseJsonBody(body, updatesRequestSchema))));
        return;
      case 'heartbeat':
        fromSender(parseJsonBody(body, heartbeatRequestSchema));
        sendJson(response, 200, proxy.heartbeatReply());
        return;
      case 'end':
        sendJson(response, 200, await proxy.handleEnd(fromSender(parseJsonBody(body, endRequestSchema))));
        return;
    }
  }

  /** The sending site, if the request is signed with the shared key, fresh and not a replay. */
  private authenticate(request: IncomingMessage, path: string, body: Buffer): string {
    const header = (name: string): string => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : '';
    };
    const site = header(PEER_HEADERS.site);
    const timestamp = header(PEER_HEADERS.timestamp);
    const nonce = header(PEER_HEADERS.nonce);
    const signature = header(PEER_HEADERS.signature);
    const refuse = (why: string): CdsRequestError => new CdsRequestError(401, `unauthenticated: ${why}`, 'unauthenticated');
    if (!this.options.peers.has(site)) throw refuse(`${PEER_HEADERS.site} "${site}" is not a configured peer`);
    if (!/^[0-9]{1,16}$/.test(timestamp)) throw refuse(`${PEER_HEADERS.timestamp} is missing or not milliseconds`);
    if (!NONCE_PATTERN.test(nonce)) throw refuse(`${PEER_HEADERS.nonce} is missing or malformed`);
    if (!SIGNATURE_PATTERN.test(signature)) throw refuse(`${PEER_HEADERS.signature} is missing or malformed`);
    const now = this.options.clock.now();
    if (Math.abs(now - Number(timestamp)) > this.options.clockWindowMs) throw refuse(`${PEER_HEADERS.timestamp} is more than ${this.options.clockWindowMs} ms from this site's clock`);
    if (!signatureMatches(this.options.key, { method: request.method ?? '', path, site, timestamp, nonce, body }, signature)) throw refuse('bad signature');
    if (!this.options.nonces.remember(nonce, now)) throw refuse('replayed request');
    return site;
  }
}

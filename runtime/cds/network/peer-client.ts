import { randomUUID, type KeyObject } from 'crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'http';
import type { Socket } from 'net';
import { Agent as HttpsAgent, request as httpsRequest } from 'https';
import type { z } from 'zod';
import type { CdsClock } from '../clock/cds-clock';
import { jsonNestingExceeds } from '../api/http-body';
import { PEER_JSON_DEPTH_LIMIT } from '../api/peer-api';
import { STALE_REQUEST, errorReplySchema } from './peer-messages';
import { PEER_HEADERS, peerSignature } from './peer-signature';

/**
 * Bound on a peer's reply. The largest is a registration's: the call's entries, at most the 4 MiB a call may hold,
 * in their envelope. A longer reply is cut off (the peer is treated as unreachable), so a broken or hostile peer
 * cannot make this node buffer without limit.
 */
export const PEER_REPLY_LIMIT_BYTES = 6 * 1024 * 1024;

/** A peer's answer other than 2xx, or no answer at all (`status` undefined: unreachable, timed out, garbled). */
export class PeerRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'PeerRequestError';
  }

  get unreachable(): boolean {
    return this.status === undefined || this.status >= 500;
  }

  /** Worth sending again: the peer did not answer, or refused the request only as signed too long ago. */
  get retryable(): boolean {
    return this.unreachable || this.reason === STALE_REQUEST;
  }

  /**
   * The peer refused the message itself: malformed (400, 413), from a site that is no participant of the call
   * (403), or for a call it does not know (404). Sending it again unchanged cannot succeed.
   */
  get refusedAsFinal(): boolean {
    return this.status === 400 || this.status === 403 || this.status === 404 || this.status === 413;
  }
}

export interface PeerClientOptions {
  /** This site: the sender of every request. */
  readonly site: string;
  /** Peer site id -> base URLs of its CDS (one per availability zone), tried in turn when one is unreachable. */
  readonly peers: ReadonlyMap<string, readonly string[]>;
  /** This site's private key: every request is signed with it, for the peer it goes to. */
  readonly privateKey: KeyObject;
  readonly clock: CdsClock;
  /**
   * A peer's clock as estimated here, stamped on requests to it: a peer refuses requests signed before it
   * started, so a sender whose clock is behind stamps the peer's time rather than its own. @default `clock.now()`
   */
  readonly peerNow?: (peer: string) => number;
  readonly timeoutMs: number;
}

/**
 * Traffic of one path, as it crossed the connections: `bytes` written (request line, every header, body) and
 * `bytesReceived` read (the replies, status line and headers included), both counted on the sockets.
 */
export interface PathTraffic {
  requests: number;
  bytes: number;
  bytesReceived: number;
}

/** Hears of every reply that carries the peer's clock, with our send and receive times. */
export type ReplyListener = (peer: string, peerTimeMs: number, sentAtMs: number, receivedAtMs: number) => void;

/**
 * Signed JSON requests to peers over kept-alive connections; counts the bytes each path puts on and reads from
 * the sockets (one request at a time per connection, so a socket's counters between two replies are one exchange). A peer with
 * several URLs is sent to the one that last answered, and to the next one when a connection fails or times out.
 */
export class PeerClient {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16, noDelay: true });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16, noDelay: true });
  private readonly sent = new Map<string, PathTraffic>();
  /** Per connection, its byte counters when its last exchange was counted. */
  private readonly counted = new WeakMap<Socket, { written: number; read: number }>();
  /** Per peer, the index of the URL that last answered. */
  private readonly preferred = new Map<string, number>();
  private readonly replyListeners = new Set<ReplyListener>();

  constructor(private readonly options: PeerClientOptions) {}

  onReply(listener: ReplyListener): void {
    this.replyListeners.add(listener);
  }

  /** Requests, and bytes on the sockets both ways, per path. */
  traffic(): Record<string, PathTraffic> {
    return Object.fromEntries([...this.sent].map(([path, counter]) => [path, { ...counter }]));
  }

  async post<T>(peer: string, path: string, body: unknown, replySchema: z.ZodType<T>): Promise<T> {
    const urls = this.options.peers.get(peer) ?? [];
    const first = this.preferred.get(peer) ?? 0;
    let lastError: PeerRequestError | undefined;
    for (let attempt = 0; attempt < urls.length; attempt++) {
      const index = (first + attempt) % urls.length;
      try {
        const reply = await this.postTo({ site: peer, url: urls[index] }, path, body, replySchema);
        this.preferred.set(peer, index);
        return reply;
      } catch (error) {
        if (!(error instanceof PeerRequestError) || error.status !== undefined) {
          this.preferred.set(peer, index);
          throw error;
        }
        lastError = error;
      }
    }
    throw lastError ?? new PeerRequestError(`no URL configured for peer ${peer}`);
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** One attempt at one URL, with a fresh nonce: the same node may sit behind every URL and would refuse a replay. */
  private async postTo<T>(peer: { site: string; url: string }, path: string, body: unknown, replySchema: z.ZodType<T>): Promise<T> {
    const payload = Buffer.from(JSON.stringify(body));
    const timestamp = String(Math.round(this.options.peerNow?.(peer.site) ?? this.options.clock.now()));
    const nonce = randomUUID();
    const headers = {
      'content-type': 'application/json',
      'content-length': String(payload.length),
      [PEER_HEADERS.site]: this.options.site,
      [PEER_HEADERS.receiver]: peer.site,
      [PEER_HEADERS.timestamp]: timestamp,
      [PEER_HEADERS.nonce]: nonce,
      [PEER_HEADERS.signature]: peerSignature(this.options.privateKey, { method: 'POST', path, site: this.options.site, receiver: peer.site, timestamp, nonce, body: payload }),
    };
    this.counter(path).requests += 1;
    const sentAt = this.options.clock.now();
    const { status, text } = await this.send(new URL(path, peer.url), headers, payload, path);
    const receivedAt = this.options.clock.now();
    const json = parseJson(text);
    const time = typeof json === 'object' && json !== null && 'time' in json && typeof json.time === 'number' ? json.time : undefined;
    if (time !== undefined) this.replyListeners.forEach((listener) => listener(peer.site, time, sentAt, receivedAt));
    if (status < 200 || status >= 300) {
      const error = errorReplySchema.safeParse(json);
      throw new PeerRequestError(`${peer.site} answered ${path} with ${status}: ${error.success ? error.data.error : text.slice(0, 200)}`, status, error.success ? error.data.reason : undefined);
    }
    const reply = replySchema.safeParse(json);
    if (!reply.success) throw new PeerRequestError(`${peer.site} sent a malformed reply to ${path}: ${reply.error.issues[0]?.path.join('.')} ${reply.error.issues[0]?.message}`);
    return reply.data;
  }

  private counter(path: string): PathTraffic {
    let counter = this.sent.get(path);
    if (!counter) this.sent.set(path, (counter = { requests: 0, bytes: 0, bytesReceived: 0 }));
    return counter;
  }

  /** One exchange on `socket` is over (answered or failed): what it wrote and read since the previous one counts for `path`. */
  private countBytes(path: string, socket: Socket | null): void {
    if (!socket) return;
    const before = this.counted.get(socket) ?? { written: 0, read: 0 };
    const now = { written: socket.bytesWritten, read: socket.bytesRead };
    this.counted.set(socket, now);
    const counter = this.counter(path);
    counter.bytes += now.written - before.written;
    counter.bytesReceived += now.read - before.read;
  }

  private send(url: URL, headers: Record<string, string>, payload: Buffer, path: string): Promise<{ status: number; text: string }> {
    const secure = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      let connection: Socket | null = null;
      const fail = (error: Error): void => {
        this.countBytes(path, connection);
        reject(new PeerRequestError(`${url.host} unreachable: ${error.message}`));
      };
      const request = (secure ? httpsRequest : httpRequest)(
        url,
        { method: 'POST', headers, agent: secure ? this.httpsAgent : this.httpAgent, timeout: this.options.timeoutMs },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let length = 0;
          response.on('data', (chunk: Buffer) => {
            length += chunk.length;
            if (length > PEER_REPLY_LIMIT_BYTES) response.destroy(new Error(`the reply is longer than ${PEER_REPLY_LIMIT_BYTES} bytes`));
            else chunks.push(chunk);
          });
          response.on('end', () => {
            this.countBytes(path, connection);
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
          response.on('error', fail);
        },
      );
      request.on('socket', (socket) => (connection = socket));
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      request.on('error', fail);
      request.end(payload);
    });
  }
}

/** The reply's JSON; undefined if it is not JSON, or nests deeper than a peer message may (parsing it could overflow the stack). */
function parseJson(text: string): unknown {
  if (jsonNestingExceeds(text, PEER_JSON_DEPTH_LIMIT)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

import { randomBytes, randomUUID } from 'crypto';
import { httpRequestBytes, rawExchange, type RawOutcome } from './raw-exchange';

/** One site's CDS as the soak attacks it. */
export interface SoakTarget {
  readonly site: string;
  readonly localPort: number;
  readonly peerPort: number;
  /** Headers of an authenticated local client of the site. */
  readonly localHeaders: Readonly<Record<string, string>>;
  /** Another site of the platform, signing peer requests to this one as the real one would. */
  readonly peerSigner: { readonly site: string; readonly headers: (path: string, body: Buffer) => Record<string, string> };
}

/** One kind of bad input; `send` makes one attempt and reports how it ended. */
export interface JunkKind {
  readonly name: string;
  readonly send: (target: SoakTarget, random: () => number) => Promise<RawOutcome>;
}

const QUICK = { holdMs: 5_000 };
const randomId = () => randomUUID().replace(/-/g, '');
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const nested = (depth: number) => Buffer.from(`{"value":${'['.repeat(depth)}${']'.repeat(depth)}}`);
const local = (target: SoakTarget, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}) =>
  rawExchange(target.localPort, [httpRequestBytes(method, path, { ...target.localHeaders, ...headers }, body)], QUICK);
const peer = (target: SoakTarget, path: string, body: Buffer, headers: Record<string, string>) => rawExchange(target.peerPort, [httpRequestBytes('POST', path, headers, body)], QUICK);
const junkCallId = (target: SoakTarget) => `${target.site}:junk-${randomId()}`;
const signedPeer = (target: SoakTarget, path: string, body: Buffer) => peer(target, path, body, target.peerSigner.headers(path, body));
const UPDATES_BATCH = '/v1/peer/updates-batch';
/** A delta of one property written by `site` to a call this target owns. */
const junkDelta = (target: SoakTarget, site: string) => ({ callId: junkCallId(target), entries: [{ kind: 'property', name: 'takeover', value: 'junk', ts: Date.now() * 1_000, site }] });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Junk answered at once: garbage bytes, malformed, oversized and deeply nested bodies, unauthenticated, forged and
 * replayed requests, and calls opened and never ended by a client that holds the token.
 */
export const QUICK_JUNK: readonly JunkKind[] = [
  { name: 'garbage bytes (local port)', send: (target) => rawExchange(target.localPort, [randomBytes(512)], QUICK) },
  { name: 'garbage bytes (peer port)', send: (target) => rawExchange(target.peerPort, [randomBytes(512)], QUICK) },
  { name: 'truncated JSON', send: (target) => local(target, 'PUT', `/v1/calls/${junkCallId(target)}/properties/note`, Buffer.from('{"value":')) },
  { name: 'JSON nested 5,000 deep', send: (target) => local(target, 'PUT', `/v1/calls/${junkCallId(target)}/properties/note`, nested(5_000)) },
  { name: 'body of 3 MiB', send: (target) => local(target, 'PUT', `/v1/calls/${junkCallId(target)}/properties/note`, Buffer.alloc(3 * 1024 * 1024, 0x20)) },
  { name: 'path of 64 KiB', send: (target) => local(target, 'GET', `/v1/calls/${'x'.repeat(64 * 1024)}`) },
  { name: 'bad percent-encoding', send: (target) => local(target, 'GET', '/v1/calls/%E0%A4%A/participants') },
  { name: 'unknown route', send: (target) => local(target, 'DELETE', '/v1/calls') },
  { name: 'no token', send: (target) => rawExchange(target.localPort, [httpRequestBytes('POST', `/v1/calls/${junkCallId(target)}/end`, {})], QUICK) },
  { name: 'wrong token', send: (target) => local(target, 'GET', `/v1/calls/${junkCallId(target)}`, undefined, { authorization: `Bearer ${randomId()}${randomId()}` }) },
  { name: 'peer path on the local port', send: (target) => local(target, 'POST', '/v1/peer/heartbeat', json({ site: target.site })) },
  { name: 'unsigned peer request', send: (target) => peer(target, '/v1/peer/updates', json({ site: target.peerSigner.site }), {}) },
  {
    name: 'update from a site not in the call',
    send: (target) => {
      const site = target.peerSigner.site;
      const body = json({ site, callId: junkCallId(target), entries: [{ kind: 'property', name: 'takeover', value: 'junk', ts: Date.now() * 1_000, site }] });
      return peer(target, '/v1/peer/updates', body, target.peerSigner.headers('/v1/peer/updates', body));
    },
  },
  {
    name: 'forged peer signature',
    send: (target) => {
      const body = json({ site: target.peerSigner.site });
      return peer(target, '/v1/peer/heartbeat', body, { ...target.peerSigner.headers('/v1/peer/heartbeat', body), 'x-cds-signature': randomBytes(64).toString('base64') });
    },
  },
  {
    name: 'signed body swapped',
    send: (target) => {
      const signed = target.peerSigner.headers('/v1/peer/heartbeat', json({ site: target.peerSigner.site }));
      return peer(target, '/v1/peer/heartbeat', json({ site: target.peerSigner.site, extra: randomId() }), signed);
    },
  },
  {
    name: 'replayed peer request',
    send: async (target) => {
      const body = json({ site: target.peerSigner.site });
      const headers = target.peerSigner.headers('/v1/peer/heartbeat', body);
      await peer(target, '/v1/peer/heartbeat', body, headers);
      return peer(target, '/v1/peer/heartbeat', body, headers);
    },
  },
  { name: 'peer body of 3 MiB', send: (target) => peer(target, '/v1/peer/updates', Buffer.alloc(3 * 1024 * 1024, 0x20), target.peerSigner.headers('/v1/peer/updates', Buffer.alloc(0))) },
  {
    name: 'updates batch for calls the site is not in',
    send: (target) => signedPeer(target, UPDATES_BATCH, json({ site: target.peerSigner.site, deltas: Array.from({ length: 20 }, () => junkDelta(target, target.peerSigner.site)) })),
  },
  {
    name: "updates batch carrying another site's writes",
    send: (target) => signedPeer(target, UPDATES_BATCH, json({ site: target.peerSigner.site, deltas: [junkDelta(target, target.site), junkDelta(target, 'elsewhere')] })),
  },
  {
    name: 'updates batch over its bound of deltas',
    send: (target) => signedPeer(target, UPDATES_BATCH, json({ site: target.peerSigner.site, deltas: Array.from({ length: 257 }, () => junkDelta(target, target.peerSigner.site)) })),
  },
  {
    name: 'updates batch of malformed deltas',
    send: (target) => signedPeer(target, UPDATES_BATCH, json({ site: target.peerSigner.site, deltas: [{ callId: junkCallId(target), entries: [] }, { callId: 42 }, null] })),
  },
  { name: 'updates batch body of 3 MiB', send: (target) => peer(target, UPDATES_BATCH, Buffer.alloc(3 * 1024 * 1024, 0x20), target.peerSigner.headers(UPDATES_BATCH, Buffer.alloc(0))) },
  {
    name: 'junk call opened and never ended',
    send: async (target, random) => {
      const callId = junkCallId(target);
      await local(target, 'POST', `/v1/calls/${callId}/registrations`, json({ client: `junk-${Math.floor(random() * 4)}` }));
      return local(target, 'PUT', `/v1/calls/${callId}/properties/junk`, json({ value: randomBytes(2_048).toString('base64') }));
    },
  },
];

/** Junk that holds a connection: a sender that trickles its headers, an event-stream reader that stops reading. */
export const HELD_JUNK: readonly JunkKind[] = [
  {
    name: 'slow headers',
    send: (target) =>
      rawExchange(
        target.localPort,
        [Buffer.from('GET /health HTTP/1.1\r\n'), ...Array.from({ length: 30 }, () => () => pause(500).then(() => Buffer.from('x-slow: 1\r\n')))],
        { holdMs: 20_000 },
      ),
  },
  {
    name: 'event stream never read',
    send: (target) => rawExchange(target.localPort, [httpRequestBytes('GET', `/v1/calls/${junkCallId(target)}/events`, target.localHeaders)], { holdMs: 15_000, paused: true }),
  },
];

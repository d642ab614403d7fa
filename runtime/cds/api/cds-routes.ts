/** The node's HTTP routes, matched on method and path (parameters are validated by their handlers). */
export type CdsRoute =
  | { readonly name: 'health' }
  | { readonly name: 'metrics' }
  | { readonly name: 'call'; readonly callId: string }
  | { readonly name: 'register-client'; readonly callId: string }
  | { readonly name: 'unregister-client'; readonly callId: string; readonly client: string }
  | { readonly name: 'events'; readonly callId: string }
  | { readonly name: 'property'; readonly callId: string; readonly property: string }
  | { readonly name: 'log'; readonly callId: string }
  | { readonly name: 'end'; readonly callId: string }
  | { readonly name: 'participants'; readonly callId: string }
  | { readonly name: 'peer'; readonly action: PeerAction };

export type PeerAction = 'register' | 'unregister' | 'updates' | 'updates-batch' | 'heartbeat' | 'end';

const PEER_ACTIONS: readonly PeerAction[] = ['register', 'unregister', 'updates', 'updates-batch', 'heartbeat', 'end'];

export type RouteMatch = { readonly route: CdsRoute } | { readonly status: 404 | 405; readonly message: string };

/** The two listeners of a node: the site's own clients, and the other sites' nodes. Each knows only its paths. */
export type CdsListenerName = 'local' | 'peer';

interface Pattern {
  readonly method: string;
  readonly segments: readonly string[];
  readonly build: (parameters: readonly string[]) => CdsRoute;
}

const HEALTH: Pattern = { method: 'GET', segments: ['health'], build: () => ({ name: 'health' }) };

/** `/metrics` only here: Prometheus scrapes from inside the site, with the site token. */
const LOCAL_PATTERNS: readonly Pattern[] = [
  HEALTH,
  { method: 'GET', segments: ['metrics'], build: () => ({ name: 'metrics' }) },
  { method: 'GET', segments: ['v1', 'calls', ':'], build: ([callId]) => ({ name: 'call', callId }) },
  { method: 'POST', segments: ['v1', 'calls', ':', 'registrations'], build: ([callId]) => ({ name: 'register-client', callId }) },
  { method: 'DELETE', segments: ['v1', 'calls', ':', 'registrations', ':'], build: ([callId, client]) => ({ name: 'unregister-client', callId, client }) },
  { method: 'GET', segments: ['v1', 'calls', ':', 'events'], build: ([callId]) => ({ name: 'events', callId }) },
  { method: 'PUT', segments: ['v1', 'calls', ':', 'properties', ':'], build: ([callId, property]) => ({ name: 'property', callId, property }) },
  { method: 'POST', segments: ['v1', 'calls', ':', 'logs'], build: ([callId]) => ({ name: 'log', callId }) },
  { method: 'POST', segments: ['v1', 'calls', ':', 'end'], build: ([callId]) => ({ name: 'end', callId }) },
  { method: 'GET', segments: ['v1', 'calls', ':', 'participants'], build: ([callId]) => ({ name: 'participants', callId }) },
];

/** `/health` too: the load balancer checks the peer port through its own target group. */
const PEER_PATTERNS: readonly Pattern[] = [
  HEALTH,
  ...PEER_ACTIONS.map((action): Pattern => ({ method: 'POST', segments: ['v1', 'peer', action], build: () => ({ name: 'peer', action }) })),
];

const PATTERNS: Readonly<Record<CdsListenerName, readonly Pattern[]>> = { local: LOCAL_PATTERNS, peer: PEER_PATTERNS };

/** The route of a request on `listener`; the other listener's paths are unknown there (404). */
export function matchRoute(listener: CdsListenerName, method: string, pathname: string): RouteMatch {
  const segments = pathname.split('/').slice(1);
  let pathMatched = false;
  for (const pattern of PATTERNS[listener]) {
    const parameters = matchSegments(pattern.segments, segments);
    if (!parameters) continue;
    if (pattern.method === method) return { route: pattern.build(parameters) };
    pathMatched = true;
  }
  return pathMatched ? { status: 405, message: `${method} is not allowed on ${pathname}` } : { status: 404, message: `no such resource: ${pathname}` };
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): string[] | undefined {
  if (pattern.length !== segments.length) return undefined;
  const parameters: string[] = [];
  for (let index = 0; index < pattern.length; index++) {
    if (pattern[index] === ':') {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segments[index]);
      } catch {
        return undefined;
      }
      parameters.push(decoded);
    } else if (pattern[index] !== segments[index]) {
      return undefined;
    }
  }
  return parameters;
}

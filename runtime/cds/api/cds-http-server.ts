import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { errorMessage, type Logger } from '../../shared/logger';
import { listen } from '../../net/listen';
import { CdsRequestError } from '../call/cds-errors';
import { matchRoute, type CdsRoute } from './cds-routes';
import { sendJson } from './http-body';
import { PROMETHEUS_CONTENT_TYPE } from '../../metrics/metric-registry';
import type { LocalApi } from './local-api';
import type { LocalToken } from './local-token';
import type { PeerApi } from './peer-api';

/** What one listener serves: the site's clients (each request carries the site token) or the other sites' nodes. */
export type CdsEndpoint =
  | {
      readonly listener: 'local';
      readonly api: LocalApi;
      readonly token: LocalToken;
      /** The node's metrics as Prometheus text, for `GET /metrics` (with the token, like every local route). */
      readonly metrics: () => string;
    }
  | {
      readonly listener: 'peer';
      readonly api: PeerApi;
      /** This site's clock, put into refusals too (a participant corrects its offset from it). */
      readonly time: () => number;
    };

export interface CdsHttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly endpoint: CdsEndpoint;
  /** `GET /health`, open to anyone who reaches the port: 503 tells the load balancer to stop routing to this node. */
  readonly health: () => Promise<{ readonly status: 200 | 503; readonly body: unknown }>;
  readonly logger: Logger;
}

/** A client slower than this to send its headers is cut off (slow-header attacks hold no connection long). */
const HEADERS_TIMEOUT_MS = 10_000;
/** The whole request, body included (a peer's largest body is 1.5 MiB; event streams are long responses, not requests). */
const REQUEST_TIMEOUT_MS = 30_000;
/** Open connections at once on one listener, event streams of local clients included; beyond it new ones are dropped. */
const MAX_CONNECTIONS = 4_096;

/** One listener: the local or the peer API, never both. A refused request changes nothing; a failure of storage is a 503. */
export class CdsHttpServer {
  readonly port: number;

  private constructor(private readonly server: Server) {
    this.port = (server.address() as AddressInfo).port;
  }

  static async listen(options: CdsHttpServerOptions): Promise<CdsHttpServer> {
    const server = createServer(
      { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
      (request, response) => void answer(options, request, response),
    );
    server.keepAliveTimeout = 65_000;
    server.maxConnections = MAX_CONNECTIONS;
    await listen(server, options.host, options.port, `the CDS ${options.endpoint.listener} API`);
    server.on('error', (error) => options.logger.error('http server error', { error: error.message }));
    return new CdsHttpServer(server);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

async function answer(options: CdsHttpServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { endpoint } = options;
  const url = new URL(request.url ?? '/', 'http://cds.invalid');
  const match = matchRoute(endpoint.listener, request.method ?? '', url.pathname);
  try {
    if ('route' in match && match.route.name === 'health') {
      const { status, body } = await options.health();
      sendJson(response, status, body);
      return;
    }
    // Before anything else, the body included: a client without the site token learns nothing, not even the routes.
    if (endpoint.listener === 'local') endpoint.token.authenticate(request);
    if ('status' in match) throw new CdsRequestError(match.status, match.message, match.status === 404 ? 'not-found' : 'method-not-allowed');
    await dispatch(endpoint, match.route, request, response);
  } catch (error) {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    if (error instanceof CdsRequestError) {
      // A request refused before all its body was read (too large, unauthenticated): the connection cannot be reused.
      if (!request.complete) response.setHeader('connection', 'close');
      sendJson(response, error.status, { error: error.message, reason: error.reason, ...(endpoint.listener === 'peer' ? { time: endpoint.time() } : {}) });
      return;
    }
    options.logger.error('request failed', { method: request.method, path: url.pathname, error: errorMessage(error) });
    sendJson(response, 503, { error: `unavailable: ${errorMessage(error)}` });
  }
}

/** Hands a routed request to the endpoint's API (the router gives each listener only its own routes). */
function dispatch(endpoint: CdsEndpoint, route: CdsRoute, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (endpoint.listener === 'peer' && route.name === 'peer') return endpoint.api.handle(route.action, request, response);
  if (endpoint.listener === 'local' && route.name === 'metrics') {
    sendMetrics(response, endpoint.metrics());
    return Promise.resolve();
  }
  if (endpoint.listener === 'local' && route.name !== 'peer' && route.name !== 'health' && route.name !== 'metrics') return endpoint.api.handle(route, request, response);
  throw new Error(`route ${route.name} reached the ${endpoint.listener} listener`);
}

function sendMetrics(response: ServerResponse, text: string): void {
  response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}

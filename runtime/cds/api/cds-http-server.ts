import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { errorMessage, type Logger } from '../../shared/logger';
import { listen } from '../../net/listen';
import { CdsRequestError } from '../call/cds-errors';
import { matchRoute } from './cds-routes';
import { sendJson } from './http-body';
import type { LocalApi } from './local-api';
import type { PeerApi } from './peer-api';

export interface CdsHttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly localApi: LocalApi;
  readonly peerApi: PeerApi;
  readonly logger: Logger;
  /** This site's clock, put into refusals of peer requests too (a participant corrects its offset from it). */
  readonly peerTime: () => number;
}

/** A client slower than this to send its headers is cut off (slow-header attacks hold no connection long). */
const HEADERS_TIMEOUT_MS = 10_000;
/** The whole request, body included (a peer's largest body is 1.5 MiB; event streams are long responses, not requests). */
const REQUEST_TIMEOUT_MS = 30_000;
/** Open connections at once, event streams of local clients included; beyond it new ones are dropped. */
const MAX_CONNECTIONS = 4_096;

/** One listener for the local and the peer API. A refused request changes nothing; a failure of storage is a 503. */
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
    await listen(server, options.host, options.port, 'the CDS API');
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
  const url = new URL(request.url ?? '/', 'http://cds.invalid');
  const match = matchRoute(request.method ?? '', url.pathname);
  try {
    if ('status' in match) throw new CdsRequestError(match.status, match.message, match.status === 404 ? 'not-found' : 'method-not-allowed');
    const { route } = match;
    if (route.name === 'peer') await options.peerApi.handle(route.action, request, response);
    else await options.localApi.handle(route, request, response);
  } catch (error) {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    if (error instanceof CdsRequestError) {
      // A request refused before all its body was read (too large, unauthenticated): the connection cannot be reused.
      if (!request.complete) response.setHeader('connection', 'close');
      const isPeer = 'route' in match && match.route.name === 'peer';
      sendJson(response, error.status, { error: error.message, reason: error.reason, ...(isPeer ? { time: options.peerTime() } : {}) });
      return;
    }
    options.logger.error('request failed', { method: request.method, path: url.pathname, error: errorMessage(error) });
    sendJson(response, 503, { error: `unavailable: ${errorMessage(error)}` });
  }
}

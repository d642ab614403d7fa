import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { listen } from '../net/listen';
import type { ServiceStatus } from './service-status';
import { routeStatusRequest, type StatusSource } from './status-routes';

export interface StatusHttpServerOptions {
  readonly host: string;
  readonly port: number;
  /** Read on every request. */
  readonly status: () => ServiceStatus;
  /** Prometheus text of the service's metrics, rendered for each `/metrics` request. */
  readonly metrics: () => string;
  /** An error of the listening socket after it started listening. */
  readonly onError: (error: Error) => void;
}

/** The HTTP side of the service: /health for load-balancer health checks, /calls for operators, /metrics for Prometheus. */
export class StatusHttpServer {
  readonly port: number;

  private constructor(private readonly server: Server) {
    this.port = (server.address() as AddressInfo).port;
  }

  static async listen(options: StatusHttpServerOptions): Promise<StatusHttpServer> {
    const server = createServer((request, response) => answer(request, response, { status: options.status(), metrics: options.metrics }));
    await listen(server, options.host, options.port, 'health checks');
    server.on('error', options.onError);
    return new StatusHttpServer(server);
  }

  /** Stops listening and drops idle keep-alive connections, so closing never waits on a client. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

function answer(request: IncomingMessage, response: ServerResponse, source: StatusSource): void {
  const reply = routeStatusRequest(request.method, request.url, source);
  const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  response.writeHead(reply.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...reply.headers,
  });
  response.end(body);
}

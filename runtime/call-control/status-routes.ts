import type { ServiceStatus } from './service-status';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/metric-registry';

export interface StatusReply {
  readonly statusCode: number;
  /** JSON, or text (the Prometheus exposition of `/metrics`). */
  readonly body: Readonly<Record<string, unknown>> | string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What the status API reads: the service's status, and its metrics as Prometheus text. */
export interface StatusSource {
  readonly status: ServiceStatus;
  readonly metrics: () => string;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

const routes: Readonly<Record<string, (source: StatusSource) => StatusReply>> = {
  // 503 while draining, so load-balancer health checks stop sending this task anything new.
  '/health': ({ status }) => ({
    statusCode: status.acceptingCalls ? 200 : 503,
    body: {
      status: status.acceptingCalls ? 'ok' : 'draining',
      version: status.version,
      group: status.group,
      acceptingCalls: status.acceptingCalls,
    },
  }),
  '/calls': ({ status }) => ({ statusCode: 200, body: { active: status.activeCalls } }),
  '/metrics': ({ metrics }) => ({ statusCode: 200, body: metrics(), headers: { 'content-type': PROMETHEUS_CONTENT_TYPE } }),
};

/** Answers one request of the status API: GET /health, /calls, /metrics; 404 or 405 otherwise. Query strings are ignored. */
export function routeStatusRequest(method: string | undefined, url: string | undefined, source: StatusSource): StatusReply {
  const path = (url ?? '/').split('?')[0];
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (route === undefined) return { statusCode: 404, body: { error: `no such resource: ${path}` } };
  if (!READ_METHODS.has(method ?? '')) {
    return { statusCode: 405, body: { error: `method ${method ?? '(none)'} not allowed on ${path}` }, headers: { allow: 'GET, HEAD' } };
  }
  return route(source);
}

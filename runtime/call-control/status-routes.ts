import type { ServiceStatus } from './service-status';

export interface StatusReply {
  readonly statusCode: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

const routes: Readonly<Record<string, (status: ServiceStatus) => StatusReply>> = {
  // 503 while draining, so load-balancer health checks stop sending this task anything new.
  '/health': (status) => ({
    statusCode: status.acceptingCalls ? 200 : 503,
    body: {
      status: status.acceptingCalls ? 'ok' : 'draining',
      version: status.version,
      group: status.group,
      acceptingCalls: status.acceptingCalls,
    },
  }),
  '/calls': (status) => ({ statusCode: 200, body: { active: status.activeCalls } }),
};

/** Answers one request of the status API: GET /health, GET /calls; 404 or 405 otherwise. Query strings are ignored. */
export function routeStatusRequest(method: string | undefined, url: string | undefined, status: ServiceStatus): StatusReply {
  const path = (url ?? '/').split('?')[0];
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (route === undefined) return { statusCode: 404, body: { error: `no such resource: ${path}` } };
  if (!READ_METHODS.has(method ?? '')) {
    return { statusCode: 405, body: { error: `method ${method ?? '(none)'} not allowed on ${path}` }, headers: { allow: 'GET, HEAD' } };
  }
  return route(status);
}

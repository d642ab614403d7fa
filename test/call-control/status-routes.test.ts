import type { ServiceStatus } from '../../runtime/call-control';
import { routeStatusRequest } from '../../runtime/call-control/status-routes';

const RUNNING: ServiceStatus = { group: 'blue', version: '1.2.3', acceptingCalls: true, activeCalls: 4 };
const DRAINING: ServiceStatus = { ...RUNNING, acceptingCalls: false };
const METRICS = '# TYPE voiceplane_calls_started_total counter\nvoiceplane_calls_started_total{group="blue"} 7\n';
const source = (status: ServiceStatus) => ({ status, metrics: () => METRICS });

describe('routeStatusRequest', () => {
  it('reports ok with 200 while accepting calls and draining with 503 after', () => {
    expect(routeStatusRequest('GET', '/health', source(RUNNING))).toEqual({
      statusCode: 200,
      body: { status: 'ok', version: '1.2.3', group: 'blue', acceptingCalls: true },
    });
    expect(routeStatusRequest('GET', '/health', source(DRAINING))).toEqual({
      statusCode: 503,
      body: { status: 'draining', version: '1.2.3', group: 'blue', acceptingCalls: false },
    });
  });

  it('counts active calls, also while draining', () => {
    expect(routeStatusRequest('GET', '/calls', source(DRAINING))).toEqual({ statusCode: 200, body: { active: 4 } });
  });

  it('serves the metrics as Prometheus text', () => {
    expect(routeStatusRequest('GET', '/metrics', source(RUNNING))).toEqual({ statusCode: 200, body: METRICS, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
  });

  it('treats HEAD like GET and ignores query strings', () => {
    expect(routeStatusRequest('HEAD', '/health?probe=alb', source(RUNNING)).statusCode).toBe(200);
  });

  it.each([
    ['/', 404],
    ['/health/', 404],
    ['/constructor', 404],
    ['/__proto__', 404],
    [undefined, 404],
  ])('answers %s with %i', (url, statusCode) => {
    expect(routeStatusRequest('GET', url, source(RUNNING)).statusCode).toBe(statusCode);
  });

  it.each(['POST', 'DELETE', 'PUT', undefined])('refuses method %s on a known path with 405 and Allow', (method) => {
    const reply = routeStatusRequest(method, '/calls', source(RUNNING));
    expect(reply.statusCode).toBe(405);
    expect(reply.headers).toEqual({ allow: 'GET, HEAD' });
    expect(reply.body).toEqual({ error: `method ${method ?? '(none)'} not allowed on /calls` });
  });
});

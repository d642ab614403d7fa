/**
 * A call-control build that starts but never becomes healthy: /health answers 503 "starting" with the
 * version it was given, and its ESL port accepts connections without ever sending `connect`. Deploying it
 * must fail verification and roll back. Configured like the real service (CALL_CONTROL_* variables).
 */
import { createServer as createHttpServer } from 'http';
import { createServer as createTcpServer } from 'net';

const env = process.env;
const host = env.CALL_CONTROL_LISTEN_HOST ?? '127.0.0.1';
const body = JSON.stringify({ status: 'starting', version: env.CALL_CONTROL_VERSION, group: env.CALL_CONTROL_GROUP, acceptingCalls: false });

const http = createHttpServer((_, response) => response.writeHead(503, { 'content-type': 'application/json' }).end(body)).listen(Number(env.CALL_CONTROL_HEALTH_PORT), host);
const esl = createTcpServer(() => undefined).listen(Number(env.CALL_CONTROL_ESL_PORT), host);

process.once('SIGTERM', () => {
  http.close();
  esl.close();
  http.closeAllConnections();
  process.exit(0);
});

import { createServer, type Server } from 'http';
import { type AddressInfo } from 'net';
import type { JsonRpcTransport } from '../../../runtime/sip';

/*
 * Stand-ins for a Kamailio node that fails, put in front of a real node: everything they do not refuse is forwarded,
 * so the real dispatcher keeps the state and answers as Kamailio does.
 */

/**
 * Forwards to `node`, except the `dispatcher.set_state` calls whose state code (`d`, `ip`, `ap`...) `refuses` picks,
 * which it refuses as Kamailio refuses an update it cannot make.
 */
export function refusingSetState(node: JsonRpcTransport, refuses: (code: string) => boolean = () => true): JsonRpcTransport {
  return async (request) => {
    const { method, params, id } = JSON.parse(request) as { method: string; params: [string, ...unknown[]]; id: number };
    if (method !== 'dispatcher.set_state' || !refuses(params[0])) return node(request);
    return JSON.stringify({ jsonrpc: '2.0', error: { code: 500, message: 'State Update Failed' }, id });
  };
}

/** Serves `answer` over HTTP on loopback, as Kamailio's jsonrpcs module serves its RPC. */
export async function serveOverHttp(answer: JsonRpcTransport): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void answer(Buffer.concat(chunks).toString('utf8')).then((body) => response.writeHead(200, { 'content-type': 'application/json' }).end(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

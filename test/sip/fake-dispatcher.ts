import { createServer, type Server } from 'http';
import { type AddressInfo } from 'net';
import { DestinationState, KamailioRpc } from '../../runtime/sip';

const FLAGS: Record<DestinationState, string> = { active: 'AP', trying: 'TP', inactive: 'IP', drained: 'DX' };

export interface FakeDispatcherOptions {
  /** Refuses the `dispatcher.set_state` calls whose state code (e.g. `d`, `ip`, `ap`) it is given, as Kamailio does on failure. */
  readonly failSetState?: (code: string) => boolean;
}

/**
 * An in-memory dispatcher of one Kamailio node of site `west`, answering the two RPC methods the maintenance uses as
 * Kamailio 5.6 does. Media server `ms-N` is at sip:10.1.128.(10+N):5060; `flags` holds each one's dispatcher flags.
 */
export function fakeDispatcherNode(name: string, states: Record<string, DestinationState>, options: FakeDispatcherOptions = {}) {
  const flags = new Map(Object.entries(states).map(([id, state]) => [id, FLAGS[state]]));
  const uri = (id: string) => `sip:10.1.128.${10 + Number(id.slice(3))}:5060`;
  const answer = async (request: string): Promise<string> => {
    const { method, params, id } = JSON.parse(request) as { method: string; params: [string, number, string]; id: number };
    if (method === 'dispatcher.set_state') {
      const [code, , destinationUri] = params;
      if (options.failSetState?.(code)) return JSON.stringify({ jsonrpc: '2.0', error: { code: 500, message: 'State Update Failed' }, id });
      const target = [...flags.keys()].find((candidate) => uri(candidate) === destinationUri)!;
      flags.set(target, `${code[0].toUpperCase()}${code.includes('p') ? 'P' : 'X'}`);
      return JSON.stringify({ jsonrpc: '2.0', result: 'Ok. Dispatcher state updated.', id });
    }
    const targets = [...flags].map(([server, serverFlags]) => ({ DEST: { URI: uri(server), FLAGS: serverFlags, PRIORITY: 0, ATTRS: { BODY: `site=west;ms=${server}` } } }));
    return JSON.stringify({ jsonrpc: '2.0', result: { NRSETS: 1, RECORDS: [{ SET: { ID: 1, TARGETS: targets } }] }, id });
  };
  return { rpc: new KamailioRpc(name, answer), flags, answer };
}

/** Serves a fake dispatcher node's RPC over HTTP on loopback, as Kamailio's jsonrpcs module does. */
export async function serveOverHttp(answer: (request: string) => Promise<string>): Promise<{ endpoint: string; close(): Promise<void> }> {
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

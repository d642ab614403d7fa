import { z } from 'zod';
import { SipError } from './sip-error';

/** Sends one JSON-RPC request document to a Kamailio node and resolves with the response document. */
export type JsonRpcTransport = (request: string) => Promise<string>;

const responseSchema = z.looseObject({
  jsonrpc: z.literal('2.0'),
  result: z.unknown().optional(),
  error: z.looseObject({ code: z.number(), message: z.string() }).optional(),
});

/** Kamailio's RPC interface (jsonrpcs module) on one node; `name` identifies the node in messages. */
export class KamailioRpc {
  private nextId = 1;

  constructor(
    readonly name: string,
    private readonly transport: JsonRpcTransport,
  ) {}

  /** Calls `method` with positional `params` (Kamailio ignores parameter names) and returns its result. */
  async call(method: string, params: readonly (string | number)[] = []): Promise<unknown> {
    const id = this.nextId++;
    const text = await this.transport(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new SipError(`Kamailio RPC at ${this.name}: ${method} answered with something that is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
    }
    const response = responseSchema.safeParse(document);
    if (!response.success) throw new SipError(`Kamailio RPC at ${this.name}: ${method} answered with an unexpected document: ${JSON.stringify(text.slice(0, 120))}`);
    const { error, result } = response.data;
    if (error) throw new SipError(`Kamailio RPC at ${this.name}: ${method} failed: ${error.message} (${error.code})`);
    return result;
  }
}

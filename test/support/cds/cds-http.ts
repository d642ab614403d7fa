import { request } from 'http';

/** The local API token the tests give their nodes (a site's clients hold its token). */
export const TEST_LOCAL_TOKEN = 'test-site-local-api-token-0123456789abcdef';

/** The header a client of a test site sends. */
export const TEST_LOCAL_AUTHORIZATION: Readonly<Record<string, string>> = { authorization: `Bearer ${TEST_LOCAL_TOKEN}` };

export interface CdsResponse {
  readonly status: number;
  readonly body: unknown;
}

/**
 * One request to a CDS on 127.0.0.1 over a fresh connection; the reply body parsed as JSON when there is one.
 * `headers` default to those of a client of the site (its token); give others (`{}`: none) to be someone else.
 */
export function cdsRequest(port: number, method: string, path: string, body?: unknown, headers: Readonly<Record<string, string>> = TEST_LOCAL_AUTHORIZATION): Promise<CdsResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent: false,
        headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}), ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            // Not JSON: the raw text.
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

export interface PropertyView {
  readonly value: unknown;
  readonly ts: number;
  readonly site: string;
}

export interface CallViewBody {
  readonly callId: string;
  readonly owner: string;
  readonly state: 'active' | 'ended';
  readonly properties: Record<string, PropertyView>;
  readonly logs: Array<{ id: string; ts: number; site: string; entry: unknown }>;
}

/** The local API of one node, as a site-internal client uses it. */
export class LocalCdsClient {
  constructor(readonly port: () => number) {}

  register(callId: string, client: string): Promise<CdsResponse> {
    return cdsRequest(this.port(), 'POST', `/v1/calls/${callId}/registrations`, { client });
  }

  unregister(callId: string, client: string): Promise<CdsResponse> {
    return cdsRequest(this.port(), 'DELETE', `/v1/calls/${callId}/registrations/${client}`);
  }

  async put(callId: string, name: string, value: unknown): Promise<PropertyView> {
    const response = await cdsRequest(this.port(), 'PUT', `/v1/calls/${callId}/properties/${name}`, { value });
    if (response.status !== 200) throw new Error(`PUT ${name} on ${callId}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as PropertyView;
  }

  async log(callId: string, entry: unknown): Promise<{ id: string; ts: number }> {
    const response = await cdsRequest(this.port(), 'POST', `/v1/calls/${callId}/logs`, { entry });
    if (response.status !== 201) throw new Error(`POST log on ${callId}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as { id: string; ts: number };
  }

  async call(callId: string): Promise<CallViewBody | undefined> {
    const response = await cdsRequest(this.port(), 'GET', `/v1/calls/${callId}`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new Error(`GET ${callId}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as CallViewBody;
  }

  end(callId: string): Promise<CdsResponse> {
    return cdsRequest(this.port(), 'POST', `/v1/calls/${callId}/end`);
  }

  async participants(callId: string): Promise<{ local: string[]; remote: string[]; upstream: string | null }> {
    return (await cdsRequest(this.port(), 'GET', `/v1/calls/${callId}/participants`)).body as { local: string[]; remote: string[]; upstream: string | null };
  }

  async health(): Promise<Record<string, unknown>> {
    return (await cdsRequest(this.port(), 'GET', '/health')).body as Record<string, unknown>;
  }
}

import axios, { type AxiosInstance } from 'axios';
import { connect } from 'net';
import { z } from 'zod';
import type { GroupInstance } from '../deployers/deployer';
import { describeIssues } from '../request/input-error';

/** What a group member must show before the media server may route calls to it again. */
export interface InstanceExpectation {
  readonly groupId: string;
  /** Omit to accept any version (the preflight check of the group that carries the calls). */
  readonly version?: string;
}

export interface InstanceCheck {
  readonly instance: GroupInstance;
  readonly ok: boolean;
  /** One line: what was seen, or why the instance fails. */
  readonly detail: string;
}

export interface InstanceVerifier {
  check(instance: GroupInstance, expectation: InstanceExpectation): Promise<InstanceCheck>;
}

export interface HttpInstanceVerifierOptions {
  readonly http?: AxiosInstance;
  /** Bound on the /health request and on the ESL probe each (default 3 000 ms). */
  readonly timeoutMs?: number;
}

const healthSchema = z.object({
  status: z.string(),
  version: z.string(),
  group: z.string(),
  acceptingCalls: z.boolean(),
});

/**
 * GET /health (status 200, the group, the version, accepting calls), then an outbound-ESL probe: a
 * media server's `socket` connects and the call-control side must speak first with `connect`.
 */
export function httpInstanceVerifier(options: HttpInstanceVerifierOptions = {}): InstanceVerifier {
  const http = options.http ?? axios.create();
  const timeoutMs = options.timeoutMs ?? 3_000;
  return {
    async check(instance, expectation) {
      const fail = (detail: string): InstanceCheck => ({ instance, ok: false, detail });
      let response;
      try {
        response = await http.get<unknown>(instance.healthUrl, { timeout: timeoutMs, validateStatus: () => true, responseType: 'json' });
      } catch (error) {
        return fail(`GET ${instance.healthUrl} failed: ${(error as Error).message}`);
      }
      const body = healthSchema.safeParse(response.data);
      if (!body.success) return fail(`GET ${instance.healthUrl} answered ${response.status} with an unexpected body: ${describeIssues(body.error.issues)}`);
      const health = body.data;
      const seen = `status ${response.status} ${health.status}, group ${health.group}, version ${health.version}, acceptingCalls ${health.acceptingCalls}`;
      if (response.status !== 200 || !health.acceptingCalls) return fail(`not accepting calls (${seen})`);
      if (health.group !== expectation.groupId) return fail(`serves group ${health.group}, expected ${expectation.groupId} (${seen})`);
      if (expectation.version !== undefined && health.version !== expectation.version) return fail(`runs version ${health.version}, expected ${expectation.version} (${seen})`);
      const probe = await probeOutboundEsl(instance.host, instance.eslPort, timeoutMs);
      if (probe !== undefined) return fail(`ESL ${instance.host}:${instance.eslPort}: ${probe}`);
      return { instance, ok: true, detail: `${seen}; ESL answers with connect` };
    },
  };
}

/** Connects like a media server's `socket` application; undefined when the peer sends `connect` first, else the problem. */
export function probeOutboundEsl(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = '';
    const finish = (problem: string | undefined): void => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => finish(received === '' ? `sent nothing within ${timeoutMs} ms` : `sent ${JSON.stringify(received.slice(0, 40))} within ${timeoutMs} ms`));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.startsWith('connect\n\n') || received.startsWith('connect\r\n\r\n')) finish(undefined);
      else if (!'connect\r\n\r\n'.startsWith(received) && !'connect\n\n'.startsWith(received)) finish(`sent ${JSON.stringify(received.slice(0, 40))}, not connect`);
    });
    socket.once('error', (error) => finish(`connection failed: ${error.message}`));
    socket.once('end', () => finish(`closed the connection after ${JSON.stringify(received.slice(0, 40))}`));
  });
}

import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { describeIssues } from '../request/input-error';

const healthSchema = z.object({ status: z.string(), group: z.string(), version: z.string(), acceptingCalls: z.boolean() });

/**
 * One GET of a call-control member's `/health`: undefined when it answers 200, accepting calls, for `groupId`; else
 * the problem in one line.
 */
export async function probeGroupHealth(url: string, groupId: string, timeoutMs: number, http: AxiosInstance = axios): Promise<string | undefined> {
  let response;
  try {
    response = await http.get<unknown>(url, { timeout: timeoutMs, validateStatus: () => true, responseType: 'json' });
  } catch (error) {
    return `GET ${url} failed: ${(error as Error).message}`;
  }
  const body = healthSchema.safeParse(response.data);
  if (!body.success) return `GET ${url} answered ${response.status} with an unexpected body: ${describeIssues(body.error.issues)}`;
  const health = body.data;
  if (response.status !== 200 || !health.acceptingCalls) return `GET ${url} answered ${response.status} ${health.status}, not accepting calls`;
  if (health.group !== groupId) return `GET ${url}: serves group ${health.group}, expected ${groupId}`;
  return undefined;
}

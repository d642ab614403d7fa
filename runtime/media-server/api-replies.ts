import { z } from 'zod';

/** Parsers of the FreeSWITCH api replies the media-server client reads (pure; zod at the edge). */

export class MediaServerReplyError extends Error {
  constructor(command: string, problem: string) {
    super(`unexpected reply to '${command}': ${problem}`);
    this.name = 'MediaServerReplyError';
  }
}

const countText = z.string().trim().regex(/^\d+$/, 'expected a non-negative integer');

/** `limit_usage hash REALM RESOURCE` -> the current count. */
export function parseLimitUsage(command: string, reply: string): number {
  const parsed = countText.safeParse(reply);
  if (!parsed.success) throw new MediaServerReplyError(command, `${JSON.stringify(reply.trim().slice(0, 80))} is not a count`);
  return Number(parsed.data);
}

const rowCountJson = z.object({ row_count: z.number().int().nonnegative() });

/** `show calls count as json` -> `{"row_count": N}`. */
export function parseRowCount(command: string, reply: string): number {
  let json: unknown;
  try {
    json = JSON.parse(reply);
  } catch {
    throw new MediaServerReplyError(command, `not JSON: ${JSON.stringify(reply.trim().slice(0, 80))}`);
  }
  const parsed = rowCountJson.safeParse(json);
  if (!parsed.success) throw new MediaServerReplyError(command, 'row_count is missing or not a count');
  return parsed.data.row_count;
}

export interface MediaServerStatus {
  readonly ready: boolean;
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly sessionsSinceStartup: number;
  /** Calls in progress when FreeSWITCH says so (`N session(s) - peak ...`). */
  readonly activeSessions?: number;
}

const UPTIME = /^UP (\d+) years?, (\d+) days?, (\d+) hours?, (\d+) minutes?, (\d+) seconds?/m;
const READY = /^FreeSWITCH \(Version ([^)]+)\) is (ready|not ready)/m;
const SINCE_STARTUP = /^(\d+) session\(s\) since startup/m;
const ACTIVE = /^(\d+) session\(s\) - peak/m;

/** `status` -> uptime, version, readiness and session counts. */
export function parseStatus(reply: string): MediaServerStatus {
  const uptime = UPTIME.exec(reply);
  const ready = READY.exec(reply);
  const since = SINCE_STARTUP.exec(reply);
  if (!uptime || !ready || !since) {
    throw new MediaServerReplyError('status', `missing ${[!uptime && 'uptime', !ready && 'version line', !since && 'session count'].filter(Boolean).join(', ')}`);
  }
  const [years, days, hours, minutes, seconds] = uptime.slice(1).map(Number);
  const active = ACTIVE.exec(reply);
  return {
    ready: ready[2] === 'ready',
    version: ready[1],
    uptimeSeconds: (((years * 365 + days) * 24 + hours) * 60 + minutes) * 60 + seconds,
    sessionsSinceStartup: Number(since[1]),
    ...(active ? { activeSessions: Number(active[1]) } : {}),
  };
}

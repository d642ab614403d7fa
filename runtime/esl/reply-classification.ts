import {
  EslAuthError,
  EslCommandError,
  EslNoReplyError,
  EslSyntaxError,
  EslUsageError,
} from './errors';
import type { Outcome } from './outcome';

/** Classifies the body of an `api/response` (or of a BACKGROUND_JOB event) for `command`. */
export function classifyApiReply(command: string, body: string): Outcome<string> {
  if (body.startsWith('-ERR no reply')) return { ok: false, error: new EslNoReplyError(command, body) };
  if (body.startsWith('-USAGE')) return { ok: false, error: new EslUsageError(command, body) };
  if (body.startsWith('!err!')) return { ok: false, error: new EslSyntaxError(command, body) };
  if (body.startsWith('-ERR')) return { ok: false, error: new EslCommandError(command, body) };
  return { ok: true, value: body };
}

/** Classifies the Reply-Text of a `command/reply`: only `+OK...` is a success. */
export function classifyCommandReply(command: string, replyText: string | undefined): Outcome<string> {
  if (replyText === undefined) return { ok: false, error: new EslCommandError(command, '(reply without Reply-Text)') };
  if (replyText.startsWith('+OK')) return { ok: true, value: replyText };
  if (replyText.startsWith('-USAGE')) return { ok: false, error: new EslUsageError(command, replyText) };
  return { ok: false, error: new EslCommandError(command, replyText) };
}

/** Classifies the reply to `auth`: FreeSWITCH accepts with exactly `+OK accepted`. */
export function classifyAuthReply(peer: string, replyText: string | undefined): Outcome<void> {
  if (replyText === '+OK accepted') return { ok: true, value: undefined };
  return { ok: false, error: new EslAuthError(peer, replyText ?? '(reply without Reply-Text)') };
}

import {
  EslAuthError,
  EslCommandError,
  EslNoReplyError,
  EslReplyError,
  EslSyntaxError,
  EslUsageError,
} from '../../runtime/esl';
import { classifyApiReply, classifyAuthReply, classifyCommandReply } from '../../runtime/esl/reply-classification';

function errorOf(outcome: { ok: boolean; error?: Error }): Error {
  if (outcome.ok || !outcome.error) throw new Error('expected a failure');
  return outcome.error;
}

describe('api reply classification', () => {
  it('returns the body of a successful reply untouched', () => {
    expect(classifyApiReply('api status', 'UP 0 years, 1 day\nFreeSWITCH (Version 1.10) is ready\n')).toEqual({
      ok: true,
      value: 'UP 0 years, 1 day\nFreeSWITCH (Version 1.10) is ready\n',
    });
    expect(classifyApiReply('api db insert/r/k/v', '+OK')).toEqual({ ok: true, value: '+OK' });
  });

  it('turns -ERR into EslCommandError keeping the text and naming the command on one line', () => {
    const error = errorOf(classifyApiReply('api frobnicate now', '-ERR frobnicate Command not found!\n'));
    expect(error).toBeInstanceOf(EslCommandError);
    expect(error).toBeInstanceOf(EslReplyError);
    expect((error as EslCommandError).replyText).toBe('-ERR frobnicate Command not found!\n');
    expect((error as EslCommandError).command).toBe('api frobnicate now');
    expect(error.message).toBe("ESL command 'api frobnicate now' failed: -ERR frobnicate Command not found!");
  });

  it('turns -ERR no reply into EslNoReplyError (not a generic command error)', () => {
    const error = errorOf(classifyApiReply('api db select/r/missing', '-ERR no reply\n'));
    expect(error).toBeInstanceOf(EslNoReplyError);
    expect(error).not.toBeInstanceOf(EslCommandError);
    expect(error.message).toContain("'api db select/r/missing'");
  });

  it('turns -USAGE: into EslUsageError', () => {
    const error = errorOf(classifyApiReply('api uuid_kill', '-USAGE: <uuid> [cause]\n'));
    expect(error).toBeInstanceOf(EslUsageError);
    expect((error as EslUsageError).replyText).toBe('-USAGE: <uuid> [cause]\n');
  });

  it('turns !err! into EslSyntaxError', () => {
    const error = errorOf(classifyApiReply('api db insert/only-realm', '!err!'));
    expect(error).toBeInstanceOf(EslSyntaxError);
    expect(error.message).toContain('!err!');
  });

  it('keeps multi-line error text but writes a one-line message', () => {
    const error = errorOf(classifyApiReply('api x', '-ERR first\nsecond line\n'));
    expect(error.message).not.toContain('\n');
    expect((error as EslCommandError).replyText).toBe('-ERR first\nsecond line\n');
  });
});

describe('command reply classification', () => {
  it('accepts +OK replies', () => {
    expect(classifyCommandReply('event plain ALL', '+OK event listener enabled plain')).toEqual({
      ok: true,
      value: '+OK event listener enabled plain',
    });
  });

  it('rejects -ERR replies with EslCommandError', () => {
    const error = errorOf(classifyCommandReply('sendmsg 1234', '-ERR invalid session id [1234]'));
    expect(error).toBeInstanceOf(EslCommandError);
    expect(error.message).toBe("ESL command 'sendmsg 1234' failed: -ERR invalid session id [1234]");
  });

  it('rejects a reply without Reply-Text', () => {
    expect(errorOf(classifyCommandReply('linger', undefined))).toBeInstanceOf(EslCommandError);
  });
});

describe('auth reply classification', () => {
  it('accepts only +OK accepted', () => {
    expect(classifyAuthReply('fs:8021', '+OK accepted').ok).toBe(true);
  });

  it('turns -ERR invalid into EslAuthError without revealing the password', () => {
    const error = errorOf(classifyAuthReply('fs:8021', '-ERR invalid'));
    expect(error).toBeInstanceOf(EslAuthError);
    expect(error.message).toBe('ESL authentication to fs:8021 failed: -ERR invalid');
  });
});

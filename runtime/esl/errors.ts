/** Collapses a (possibly multi-line) reply into one line for an error message. */
function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ');
}

/** Base class of every error the ESL layer produces. `command` is the ESL command line concerned, if any. */
export class EslError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** FreeSWITCH answered the command with an error; `replyText` is its reply exactly as received. */
export abstract class EslReplyError extends EslError {
  constructor(
    message: string,
    command: string,
    readonly replyText: string,
  ) {
    super(message, command);
  }
}

/** The reply started with `-ERR` (unknown command, no such channel, invalid session id...). */
export class EslCommandError extends EslReplyError {
  constructor(command: string, replyText: string) {
    super(`ESL command '${command}' failed: ${oneLine(replyText)}`, command, replyText);
  }
}

/** The reply started with `-USAGE:`: the command exists but its arguments are wrong. */
export class EslUsageError extends EslReplyError {
  constructor(command: string, replyText: string) {
    super(`ESL command '${command}' was used wrongly: ${oneLine(replyText)}`, command, replyText);
  }
}

/** The reply started with `!err!` (e.g. `db` with a malformed argument). */
export class EslSyntaxError extends EslReplyError {
  constructor(command: string, replyText: string) {
    super(`ESL command '${command}' has a syntax error: ${oneLine(replyText)}`, command, replyText);
  }
}

/** The api command produced no output (`-ERR no reply`), e.g. `db select` of a missing key. */
export class EslNoReplyError extends EslReplyError {
  constructor(command: string, replyText: string) {
    super(`ESL command '${command}' produced no output (${oneLine(replyText)})`, command, replyText);
  }
}

/** No answer within the command's time limit. */
export class EslTimeoutError extends EslError {
  constructor(
    command: string,
    readonly timeoutMs: number,
  ) {
    super(`ESL command '${command}' timed out after ${timeoutMs} ms`, command);
  }
}

/** FreeSWITCH refused the password (`-ERR invalid`). */
export class EslAuthError extends EslError {
  constructor(
    readonly peer: string,
    readonly replyText: string,
  ) {
    super(`ESL authentication to ${peer} failed: ${oneLine(replyText)}`, 'auth');
  }
}

/** The peer sent something the ESL protocol does not allow (e.g. a CHANNEL_DATA without Unique-ID). */
export class EslProtocolError extends EslError {
  constructor(peer: string, problem: string, command?: string) {
    super(`ESL peer ${peer} broke the protocol: ${problem}`, command);
  }
}

/** The connection could not be opened, was refused or unreachable, or is closed (or closing). */
export class EslConnectionError extends EslError {
  constructor(
    readonly peer: string,
    readonly reason: string,
    command?: string,
  ) {
    super(`ESL connection to ${peer} ${reason}${command ? ` (while running '${command}')` : ''}`, command);
  }
}

import pino from 'pino';
import { z } from 'zod';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Readonly<Record<string, LogValue>>;

/** Structured logging: a message plus fields. Injectable so tests and other sinks can capture entries. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const satisfies readonly LogLevel[];

/** The level setting of every voiceplane process (services, `cds serve`, the orchestrator's functions). */
export const LOG_LEVEL_VARIABLE = 'VOICEPLANE_LOG_LEVEL';
export const logLevelSchema = z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` });
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** Fields whose values never reach a log line, whoever logs them. */
export const REDACTED_FIELDS: readonly string[] = ['password', 'secret', 'token', 'authorization', 'peerKey', 'privateKey', 'localToken'];

export interface JsonLinesLoggerOptions {
  /** Receives each entry as one JSON line ending in a newline (default: stdout). */
  readonly write?: (line: string) => void;
  /** Milliseconds since the epoch, for `ts` (default Date.now). */
  readonly now?: () => number;
  /** Entries below this level are dropped (default `info`). */
  readonly level?: LogLevel;
}

const RESERVED_FIELDS = new Set(['ts', 'level', 'msg']);

/** Writes `{level, ts, ...fields, msg}` JSON lines (pino), secrets in {@link REDACTED_FIELDS} replaced by `[redacted]`. */
export function jsonLinesLogger({ write = writeToStdout, now = Date.now, level = DEFAULT_LOG_LEVEL }: JsonLinesLoggerOptions = {}): Logger {
  const logger = pino(
    {
      level,
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date(now()).toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_FIELDS], censor: '[redacted]' },
    },
    { write },
  );
  const entry = (name: LogLevel) => (msg: string, fields: LogFields = {}) => {
    if (!logger.isLevelEnabled(name)) return;
    // A field named like a reserved key would make a second key in the line, which a JSON reader takes as the real one.
    const own = Object.fromEntries(Object.entries(fields).filter(([field, value]) => !RESERVED_FIELDS.has(field) && value !== undefined));
    logger[name](own, msg);
  };
  return { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') };
}

/** A logger adding `fields` to every entry (an entry's own fields win). */
export function withFields(logger: Logger, fields: LogFields): Logger {
  const merged = (write: Logger[LogLevel]) => (msg: string, own: LogFields = {}) => write(msg, { ...fields, ...own });
  return {
    debug: merged(logger.debug.bind(logger)),
    info: merged(logger.info.bind(logger)),
    warn: merged(logger.warn.bind(logger)),
    error: merged(logger.error.bind(logger)),
  };
}

/** The message of a thrown value, for a log field. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function writeToStdout(line: string): void {
  process.stdout.write(line);
}

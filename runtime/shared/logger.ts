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

export interface JsonLinesLoggerOptions {
  /** Receives each entry as one JSON line ending in a newline (default: stdout). */
  readonly write?: (line: string) => void;
  /** Milliseconds since the epoch, for `ts` (default Date.now). */
  readonly now?: () => number;
}

/** Writes `{ts, level, msg, ...fields}` JSON lines. */
export function jsonLinesLogger({ write = writeToStdout, now = Date.now }: JsonLinesLoggerOptions = {}): Logger {
  const entry = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
    const ts = new Date(now()).toISOString();
    // Assigning the reserved keys again keeps them first in the line and stops a field from overwriting them.
    write(`${JSON.stringify(Object.assign({ ts, level, msg }, fields, { ts, level, msg }))}\n`);
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

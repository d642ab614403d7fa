import { jsonLinesLogger, type Logger } from '../../runtime/shared/logger';

export type LogEntry = Readonly<Record<string, unknown>>;

/** A JSON-lines logger whose lines are parsed back into `entries`. */
export function recordingLogger(now: () => number = () => 0): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const logger = jsonLinesLogger({ write: (line) => entries.push(JSON.parse(line) as LogEntry), now });
  return { logger, entries };
}

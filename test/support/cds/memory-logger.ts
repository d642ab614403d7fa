import type { LogFields, Logger } from '../../../runtime/shared/logger';

export interface LoggedEntry {
  readonly level: string;
  readonly msg: string;
  readonly fields: LogFields;
}

/** A logger keeping its entries in memory (set CDS_TEST_LOG=1 to also print them). */
export function memoryLogger(prefix: string, entries: LoggedEntry[] = []): { logger: Logger; entries: LoggedEntry[] } {
  const entry = (level: string) => (msg: string, fields: LogFields = {}) => {
    entries.push({ level, msg, fields });
    if (process.env.CDS_TEST_LOG) process.stderr.write(`${prefix} ${level} ${msg} ${JSON.stringify(fields)}\n`);
  };
  return { logger: { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') }, entries };
}

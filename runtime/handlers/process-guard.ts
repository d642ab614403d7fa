import { errorMessage, jsonLinesLogger } from '../shared/logger';

/**
 * For the entry points of long-running processes: an uncaught error or an unhandled rejection becomes one
 * JSON line on stderr (its stack in a field) and exit code 1, never a hang nor a stack spread over many lines;
 * a process warning (such as the AWS SDK's notice about the Node version) becomes one JSON line as well.
 */
export function guardProcess(): void {
  const logger = jsonLinesLogger({ write: (line) => process.stderr.write(line) });
  const crash = (msg: string) => (error: unknown) => {
    process.exitCode = 1;
    logger.error(msg, { error: errorMessage(error), stack: error instanceof Error ? error.stack : undefined });
    // After the line is out: a piped stderr is asynchronous on some platforms.
    process.stderr.write('', () => process.exit(1));
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));
  // Node's own printer writes a warning over several lines.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn('process warning', { type: warning.name, warning: warning.message }));
}

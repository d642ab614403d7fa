import { existsSync, readFileSync } from 'fs';
import * as path from 'path';

interface Manifest {
  readonly name?: unknown;
  readonly version?: unknown;
}

/**
 * The root of the voiceplane package this code belongs to: the nearest directory above `from` whose package.json is
 * named voiceplane (the sources and the compiled tree sit at different depths below it), else the sources' root
 * (code bundled without its package, as in a Lambda function, has no package.json to find).
 */
export function packageRoot(from: string = __dirname): string {
  for (let directory = from; ; directory = path.dirname(directory)) {
    if (manifestAt(directory)?.name === 'voiceplane') return directory;
    if (path.dirname(directory) === directory) return path.resolve(from, '../..');
  }
}

/** The version in the package's package.json. */
export function packageVersion(): string {
  return String(manifestAt(packageRoot())?.version ?? 'unknown');
}

function manifestAt(directory: string): Manifest | undefined {
  const file = path.join(directory, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Manifest) : undefined;
}

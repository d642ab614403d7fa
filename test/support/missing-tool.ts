import { accessSync, constants } from 'fs';
import * as path from 'path';

/**
 * A program some tests need is missing: with `requiredBy` set to 1 (CI sets it) a failure, elsewhere a loud warning,
 * after which the caller skips those tests.
 */
export function reportMissingTool(message: string, requiredBy: string): void {
  if (process.env[requiredBy] === '1') throw new Error(`${message} (${requiredBy}=1 makes this a failure)`);
  console.warn(`\n${'!'.repeat(78)}\n${message}\n${'!'.repeat(78)}\n`);
}

/** The first executable `name` in `directories`. */
export function findExecutable(name: string, directories: readonly string[]): string | undefined {
  return directories
    .map((directory) => path.join(directory, name))
    .find((candidate) => {
      try {
        accessSync(candidate, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

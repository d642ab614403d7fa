import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { packageRoot } from '../cli/package-root';
import { CliError } from './cli-error';
import type { Output } from './output';

/** The topology file shipped with the repository, used when no --topology is given. */
export const DEFAULT_TOPOLOGY = path.join(packageRoot(), 'stacks/topology.example.json');

/**
 * Renders configuration files from a topology file; a file that cannot be read, is not JSON or is refused by
 * `render` (an error of class `refusal`) is one line naming the file.
 */
export function renderFromTopology<Files extends Record<string, string>>(
  topologyFile: string,
  render: (topology: unknown) => Files,
  refusal: new (...args: never[]) => Error,
): Files {
  let text: string;
  try {
    text = readFileSync(topologyFile, 'utf8');
  } catch (error) {
    throw new CliError(`--topology: cannot read ${topologyFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return render(JSON.parse(text));
  } catch (error) {
    if (error instanceof refusal || error instanceof SyntaxError) throw new CliError(`${topologyFile}: ${error.message}`);
    throw error;
  }
}

/** Writes `files` (paths relative to `outDir`), printing each path written. */
export function writeConfigFiles(outDir: string, files: Readonly<Record<string, string>>, output: Output): void {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(outDir, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    output.line(file);
  }
}

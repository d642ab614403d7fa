import { execFileSync } from 'child_process';
import { chmodSync, copyFileSync, cpSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

const REPOSITORY = path.join(__dirname, '../../..');

/**
 * The application directory the Dockerfile's images hold (its WORKDIR), built the way the Dockerfile builds it
 * but without Docker: the runtime compiled alone with the repository's tsconfig (the build stage copies only
 * `runtime/`), next to production dependencies installed by `npm ci --omit=dev` from the lock file, so a runtime
 * import of a development dependency fails here as it would in the image. Readable by any user (the images run
 * as `node`, not root).
 */
export function buildImageFilesystem(): { readonly appDir: string; remove(): void } {
  const root = mkdtempSync(path.join(tmpdir(), 'voiceplane-image-'));
  chmodSync(root, 0o755);
  const build = path.join(root, 'build');
  const appDir = path.join(root, 'app');
  for (const dir of [build, appDir]) cpSync(REPOSITORY, dir, { recursive: true, filter: (source) => isPackageFile(source) });
  copyFileSync(path.join(REPOSITORY, 'tsconfig.json'), path.join(build, 'tsconfig.json'));
  cpSync(path.join(REPOSITORY, 'runtime'), path.join(build, 'runtime'), { recursive: true });
  // The build stage has every dependency (`npm ci`); the repository's own install is that.
  symlinkSync(path.join(REPOSITORY, 'node_modules'), path.join(build, 'node_modules'));
  execFileSync(process.execPath, [path.join(REPOSITORY, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: build, stdio: 'pipe' });
  execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: appDir, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });
  renameSync(path.join(build, 'dist'), path.join(appDir, 'dist'));
  rmSync(build, { recursive: true, force: true });
  execFileSync('chmod', ['-R', 'a+rX', root]);
  return { appDir, remove: () => rmSync(root, { recursive: true, force: true }) };
}

function isPackageFile(source: string): boolean {
  const relative = path.relative(REPOSITORY, source);
  return relative === '' || relative === 'package.json' || relative === 'package-lock.json';
}

import { execFileSync } from 'child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

const REPOSITORY = path.join(__dirname, '../..');

/** What `npm pack` needs from the repository: the manifest, what `files` lists and what `npm run build` compiles. */
const PACKAGE_SOURCES = ['package.json', 'README.md', 'ARCHITECTURE.md', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'lib', 'runtime', 'stacks'];

export interface InstalledPackage {
  /** The tarball `npm pack` wrote. */
  readonly tarball: string;
  /** A project whose node_modules holds the package and its production dependencies only. */
  readonly projectDir: string;
  remove(): void;
}

/**
 * Packs the package as `npm pack` does for a release (its `prepack` script builds it), from a copy of the
 * repository's sources so the shared `dist/` is never touched, then installs the tarball into a fresh project with
 * `npm install --omit=dev` (peer dependencies included, as npm installs them for a user).
 */
export function packAndInstall(): InstalledPackage {
  const root = mkdtempSync(path.join(tmpdir(), 'voiceplane-package-'));
  const stage = path.join(root, 'stage');
  const projectDir = path.join(root, 'project');
  const run = (command: string, args: readonly string[], cwd: string): string =>
    execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  try {
    for (const name of PACKAGE_SOURCES) {
      if (existsSync(path.join(REPOSITORY, name))) cpSync(path.join(REPOSITORY, name), path.join(stage, name), { recursive: true });
    }
    // The build needs the development dependencies (TypeScript); the repository's own install has them.
    symlinkSync(path.join(REPOSITORY, 'node_modules'), path.join(stage, 'node_modules'));
    run('npm', ['pack', '--pack-destination', root, '--no-fund'], stage);
    const [tarball] = readdirSync(root).filter((name) => name.endsWith('.tgz'));
    mkdirSync(projectDir);
    writeFileSync(path.join(projectDir, 'package.json'), JSON.stringify({ name: 'voiceplane-user', version: '1.0.0', private: true }));
    run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', path.join(root, tarball)], projectDir);
    return { tarball: path.join(root, tarball), projectDir, remove: () => rmSync(root, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    const { stderr } = error as { stderr?: string };
    throw new Error(`${(error as Error).message}${stderr ? `\n${stderr}` : ''}`);
  }
}

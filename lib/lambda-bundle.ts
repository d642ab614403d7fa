import { cpSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Construct } from 'constructs';
import { AssetType, TerraformAsset } from 'cdktf';
// A dependency, not a development one: the published package bundles its compiled handlers at the user's synth.
import { buildSync } from 'esbuild';

export interface LambdaBundleProps {
  /** TypeScript entry module, bundled with everything it imports into `index.js`. */
  readonly entry: string;
  /** Extra files written next to `index.js` (name -> content), e.g. configuration generated at synth. */
  readonly files?: Readonly<Record<string, string>>;
}

/** The Lambda runtime the bundles are built for (Node.js 20 left Lambda's support with its end of life in April 2026). */
export const LAMBDA_RUNTIME = 'nodejs22.x';
const LAMBDA_NODE_TARGET = 'node22';

const bundles = new Map<string, string>();
const FIXED_FILE_TIME = new Date('2000-01-01T00:00:00Z');

/** Bundles each entry once per synth, however many stacks use it. */
function bundleOnce(entry: string): string {
  const cached = bundles.get(entry);
  if (cached) return cached;
  const outdir = mkdtempSync(path.join(tmpdir(), 'voiceplane-bundle-'));
  buildSync({
    entryPoints: [entry],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: LAMBDA_NODE_TARGET,
    format: 'cjs',
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'error',
  });
  bundles.set(entry, outdir);
  return outdir;
}

/**
 * A Lambda deployment package built at synth time: an esbuild bundle of `entry` plus generated
 * files, archived by CDKTF as an asset (no S3 bucket, no build step outside `cdktf synth`).
 */
export class LambdaBundle extends Construct {
  /** Path of the zip, relative to the stack directory (the function's `filename`). */
  public readonly path: string;
  /** Hash of the package contents (the function's `source_code_hash`). */
  public readonly assetHash: string;

  constructor(scope: Construct, id: string, props: LambdaBundleProps) {
    super(scope, id);
    const directory = mkdtempSync(path.join(tmpdir(), 'voiceplane-lambda-'));
    cpSync(bundleOnce(props.entry), directory, { recursive: true });
    for (const [name, content] of Object.entries(props.files ?? {})) {
      if (name.includes('/') || name === 'index.js') throw new Error(`files: "${name}" must be a plain file name other than index.js`);
      writeFileSync(path.join(directory, name), content);
    }
    // The archive records each file's modification time: a fixed one makes two synths write the same zip.
    for (const name of readdirSync(directory)) utimesSync(path.join(directory, name), FIXED_FILE_TIME, FIXED_FILE_TIME);
    const asset = new TerraformAsset(this, 'Asset', { path: directory, type: AssetType.ARCHIVE });
    this.path = asset.path;
    this.assetHash = asset.assetHash;
  }
}

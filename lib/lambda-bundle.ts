import { createHash } from 'crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Construct } from 'constructs';
import { AssetType, TerraformAsset } from 'cdktf';
// A dependency, not a development one: the published package bundles its compiled handlers at the user's synth.
import { buildSync, stop as stopEsbuild } from 'esbuild';
import { ZipEntry, zipArchive, zipEntry } from './zip-archive';

export interface LambdaBundleProps {
  /** TypeScript entry module, bundled with everything it imports into `index.js`. */
  readonly entry: string;
  /** Extra files written next to `index.js` (name -> content), e.g. configuration generated at synth. */
  readonly files?: Readonly<Record<string, string>>;
}

/** The Lambda runtime the bundles are built for (Node.js 20 left Lambda's support with its end of life in April 2026). */
export const LAMBDA_RUNTIME = 'nodejs22.x';
const LAMBDA_NODE_TARGET = 'node22';
const ARCHIVE_NAME = 'archive.zip';

interface PackageFile {
  readonly content: Buffer;
  readonly entry: ZipEntry;
}

/** The bundle of each entry module (index.js and its source map), built and compressed once per synth however many packages hold it. */
const bundles = new Map<string, Map<string, PackageFile>>();

function bundleOnce(entry: string): Map<string, PackageFile> {
  const cached = bundles.get(entry);
  if (cached) return cached;
  const { outputFiles } = buildSync({
    entryPoints: [entry],
    // Kept in memory; the source map names the sources relative to this (never written) directory.
    outfile: path.join(tmpdir(), 'voiceplane-bundle', 'index.js'),
    write: false,
    bundle: true,
    platform: 'node',
    target: LAMBDA_NODE_TARGET,
    format: 'cjs',
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'error',
  });
  // buildSync leaves esbuild's service process running (over 150 MB resident) until this process exits; a synth
  // bundles each entry once, at its first data center.
  void stopEsbuild();
  const files = new Map(
    outputFiles.map((file): [string, PackageFile] => {
      const name = path.basename(file.path);
      const content = Buffer.from(file.contents);
      return [name, { content, entry: zipEntry(name, content) }];
    }),
  );
  bundles.set(entry, files);
  return files;
}

/** Where this process stages its zips, removed when it exits: synth copies each zip into its stack, so none is needed after. */
let stagingRoot: string | undefined;

function stagingDirectory(): string {
  if (stagingRoot === undefined) {
    const root = mkdtempSync(path.join(tmpdir(), 'voiceplane-lambda-'));
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
    stagingRoot = root;
  }
  return mkdtempSync(path.join(stagingRoot, 'package-'));
}

/**
 * The content hash of a package: MD5 of its files' contents in name order, the hash CDKTF gives a directory asset.
 * It names the package's directory in the stack and is the functions' `source_code_hash`, so it changes exactly
 * when a file of the package does.
 */
function packageHash(files: ReadonlyMap<string, PackageFile>): string {
  const hash = createHash('md5');
  for (const name of [...files.keys()].sort()) hash.update(files.get(name)!.content);
  return hash.digest('hex').toUpperCase();
}

/**
 * A Lambda deployment package built at synth time: an esbuild bundle of `entry` plus generated files, zipped in
 * process (fixed file times: two synths write the same zip) and copied into the stack as an asset (no S3 bucket, no
 * build step outside `cdktf synth`). Each stack holds its own copy, so every stack's directory stays self-contained.
 */
export class LambdaBundle extends Construct {
  /** Path of the zip, relative to the stack directory (the function's `filename`). */
  public readonly path: string;
  /** Hash of the package contents (the function's `source_code_hash`). */
  public readonly assetHash: string;

  constructor(scope: Construct, id: string, props: LambdaBundleProps) {
    super(scope, id);
    const bundle = bundleOnce(props.entry);
    const files = new Map(bundle);
    for (const [name, text] of Object.entries(props.files ?? {})) {
      if (name.includes('/') || bundle.has(name)) throw new Error(`files: "${name}" must be a plain file name other than ${[...bundle.keys()].sort().join(' and ')}`);
      const content = Buffer.from(text, 'utf8');
      files.set(name, { content, entry: zipEntry(name, content) });
    }
    const names = [...files.keys()].sort();
    const zipFile = path.join(stagingDirectory(), ARCHIVE_NAME);
    writeFileSync(zipFile, zipArchive(names.map((name) => files.get(name)!.entry)));
    const asset = new TerraformAsset(this, 'Asset', { path: zipFile, type: AssetType.FILE, assetHash: packageHash(files) });
    this.path = asset.path;
    this.assetHash = asset.assetHash;
  }
}

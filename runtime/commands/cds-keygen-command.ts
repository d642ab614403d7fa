import { writeFileSync } from 'fs';
import { z } from 'zod';
import { generatePeerIdentity } from '../cds/network/peer-identity';
import { CliError, UsageError } from './cli-error';
import type { Output } from './output';

const keygenOptionsSchema = z.object({ out: z.string({ error: 'required (the file to write the private key to)' }).min(1, 'must name a file') });

/**
 * `voiceplane cds keygen`: a new CDS identity for a site. The private key goes to `--out` (PKCS#8 PEM, readable by
 * its owner only; an existing file is never overwritten) for the site's secret; the public key is printed for the
 * site's `cdsPublicKey` in the topology.
 */
export function runCdsKeygenCommand(raw: { readonly out?: string }, output: Output): void {
  const parsed = keygenOptionsSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--out: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const { out } = parsed.data;
  const { privateKeyPem, publicKey } = generatePeerIdentity();
  try {
    writeFileSync(out, privateKeyPem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(code === 'EEXIST' ? `--out: ${out} exists; not overwriting a key` : `--out: cannot write ${out}: ${code ?? (error as Error).message}`);
  }
  output.line(publicKey);
}

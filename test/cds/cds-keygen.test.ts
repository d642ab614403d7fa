import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { formatPeerPublicKey, parsePeerPrivateKey, publicKeyOf } from '../../runtime/cds/network/peer-identity';
import { runCdsKeygenCommand } from '../../runtime/commands/cds-keygen-command';
import { parseTopology } from '../../lib/topology';
import exampleTopology from '../../stacks/topology.example.json';

describe('cds keygen', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cds-keygen-'));

  it('writes a private key only its owner reads, and prints the public key that goes with it', () => {
    const out = path.join(dir, 'west.pem');
    const lines: string[] = [];
    runCdsKeygenCommand({ out }, { line: (text) => lines.push(text) });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const privateKey = parsePeerPrivateKey(readFileSync(out, 'utf8'));
    if (typeof privateKey === 'string') throw new Error(privateKey);
    expect(lines).toEqual([formatPeerPublicKey(publicKeyOf(privateKey))]);
    // The printed key is what a site's cdsPublicKey takes.
    const site = { ...exampleTopology.sites[0], cdsPublicKey: lines[0] };
    expect(parseTopology({ ...exampleTopology, sites: [site, exampleTopology.sites[1]] }).sites[0].cdsPublicKey).toBe(lines[0]);
  });

  it('never overwrites a file, and names --out when it is missing', () => {
    const out = path.join(dir, 'taken.pem');
    writeFileSync(out, 'an existing key');
    expect(() => runCdsKeygenCommand({ out }, { line: () => undefined })).toThrow(`--out: ${out} exists; not overwriting a key`);
    expect(readFileSync(out, 'utf8')).toBe('an existing key');
    expect(() => runCdsKeygenCommand({}, { line: () => undefined })).toThrow('--out: required (the file to write the private key to)');
  });

  it("refuses a topology whose site has no valid CDS public key, or another site's", () => {
    const [west, frankfurt] = exampleTopology.sites;
    const problems = (sites: unknown[]) => {
      try {
        parseTopology({ ...exampleTopology, sites });
        return [];
      } catch (error) {
        return (error as { issues: string[] }).issues;
      }
    };
    expect(problems([{ ...west, cdsPublicKey: 'not a key' }, frankfurt])).toEqual(['sites[0].cdsPublicKey: must be an Ed25519 public key (base64 SPKI DER, as `voiceplane cds keygen` prints)']);
    expect(problems([west, { ...frankfurt, cdsPublicKey: west.cdsPublicKey }])).toEqual([
      "sites[1].cdsPublicKey: is another site's key too: each site needs its own (`voiceplane cds keygen`), or one could sign as the other",
    ]);
  });
});

import { parseArgs } from 'util';
import { parseCdsServeOptions } from '../../runtime/commands/cds-command';
import { CDS_SERVE_OPTIONS } from '../../runtime/commands/cds-serve-flags';
import { AWS_DYNAMODB, cdsServeCommandLine, cdsServeRawOptions, type CdsServeCommandLine } from '../../runtime/commands/cds-serve-options';
import { CDS_LOCAL_TOKEN_VARIABLE, CDS_PEER_KEY_VARIABLE, ESL_PASSWORD_VARIABLE } from '../../runtime/commands/secret-variables';
import { testPublicKeyText } from '../support/cds/test-identities';
import { candidateId, pick, seededRandom, type Random } from '../support/generated-values';

/** The command line `cds serve` receives, parsed as the CLI parses it (same option table, strict). */
const SECRETS = { [CDS_PEER_KEY_VARIABLE]: 'k'.repeat(40), [CDS_LOCAL_TOKEN_VARIABLE]: 't'.repeat(40) };

function parsed(command: readonly string[], env: Record<string, string> = SECRETS) {
  const { values, positionals } = parseArgs({ args: [...command.slice(1)], options: CDS_SERVE_OPTIONS, allowPositionals: true, strict: true });
  expect([command[0], ...positionals]).toEqual(['cds', 'serve']);
  return parseCdsServeOptions(cdsServeRawOptions(values, env));
}

const siteId = (random: Random) => {
  for (;;) {
    const id = candidateId(random);
    if (/^[a-z][a-z0-9-]{0,30}$/.test(id)) return id;
  }
};
const address = (random: Random) => Array.from({ length: 4 }, () => Math.floor(random() * 256)).join('.');

describe('the cds serve command line', () => {
  it('is what the constructs write, flag by flag', () => {
    expect(
      cdsServeCommandLine({
        site: 'west',
        listen: { host: '0.0.0.0', port: 7070 },
        peerListen: { host: '0.0.0.0', port: 7071 },
        dynamoDbEndpoint: AWS_DYNAMODB,
        table: 'acme-site-west-cds',
        archiveTable: 'arn:aws:dynamodb:us-east-1:111122223333:table/archive',
        peers: [{ id: 'frankfurt', urls: ['http://10.2.0.6:7070', 'http://10.2.16.6:7070'], publicKey: testPublicKeyText('frankfurt') }, { id: 'tokyo', urls: [], publicKey: testPublicKeyText('tokyo') }],
        mediaServers: [{ host: '10.1.128.10', port: 8021 }],
      }),
    ).toEqual([
      ...['cds', 'serve', '--site', 'west', '--listen', '0.0.0.0:7070', '--peer-listen', '0.0.0.0:7071', '--dynamodb-endpoint', 'aws', '--table', 'acme-site-west-cds'],
      ...['--archive-table', 'arn:aws:dynamodb:us-east-1:111122223333:table/archive', '--peer', 'frankfurt=http://10.2.0.6:7070,http://10.2.16.6:7070'],
      ...['--peer-public-key', `frankfurt=${testPublicKeyText('frankfurt')}`, '--peer-public-key', `tokyo=${testPublicKeyText('tokyo')}`, '--media-server', '10.1.128.10:8021'],
    ]);
  });

  it('parses back to what it was built from, over generated values', () => {
    const random = seededRandom(2024);
    for (let sample = 0; sample < 200; sample++) {
      const site = siteId(random);
      const peerIds = [...new Set(Array.from({ length: Math.floor(random() * 4) }, () => siteId(random)))].filter((id) => id !== site);
      const listen = { host: pick(random, ['0.0.0.0', '127.0.0.1', address(random), 'cds.internal']), port: Math.floor(random() * 65536) };
      const built: CdsServeCommandLine = {
        site,
        listen,
        peerListen: { host: pick(random, [listen.host, address(random)]), port: (listen.port + 1 + Math.floor(random() * 1000)) % 65536 },
        dynamoDbEndpoint: pick(random, [undefined, AWS_DYNAMODB, `http://${address(random)}:8000`]),
        table: pick(random, [undefined, `${site}-cds`]),
        archiveTable: pick(random, [undefined, 'cds-archive', `arn:aws:dynamodb:eu-west-1:111122223333:table/${site}-archive`]),
        peers: peerIds.map((id) => ({ id, urls: Array.from({ length: 1 + Math.floor(random() * 3) }, () => `http://${address(random)}:${1 + Math.floor(random() * 65535)}`), publicKey: testPublicKeyText(id) })),
        mediaServers: Array.from({ length: Math.floor(random() * 3) }, () => ({ host: address(random), port: 1 + Math.floor(random() * 65535) })),
      };
      const env = { ...SECRETS, [ESL_PASSWORD_VARIABLE]: 'ClueCon' };
      const options = parsed(cdsServeCommandLine(built), env);
      expect(options).toMatchObject({
        site: built.site,
        listen: built.listen,
        'peer-listen': built.peerListen,
        peer: built.peers!.map((peer) => ({ id: peer.id, urls: peer.urls })),
        'peer-public-key': built.peers!.map((peer) => ({ id: peer.id, publicKey: peer.publicKey })),
        'media-server': built.mediaServers,
        password: 'ClueCon',
        peerKey: 'k'.repeat(40),
        localToken: 't'.repeat(40),
      });
      expect(options['dynamodb-endpoint']).toBe(built.dynamoDbEndpoint);
      expect(options.table).toBe(built.table);
      expect(options['archive-table']?.name).toBe(built.archiveTable?.replace(/^arn:.*:table\//, ''));
    }
  });

  it('admits peers without URLs by their public key, and never calls them', () => {
    const command = cdsServeCommandLine({ site: 'west', listen: { host: '0.0.0.0', port: 7070 }, peers: [{ id: 'tokyo', urls: [], publicKey: testPublicKeyText('tokyo') }] });
    expect(command).not.toContain('--peer');
    expect(parsed(command).peer).toEqual([]);
    expect(parsed(command)['peer-public-key']).toEqual([{ id: 'tokyo', publicKey: testPublicKeyText('tokyo') }]);
  });
});

import type { OptionTable } from '../cli/option-table';
import { ESL_PASSWORD_OPTIONS } from '../cli/command-options';

/** The CDS local API (the site's own clients, with the site token) in its container. */
export const CDS_PORT = 7070;
/** The CDS peer API (the other sites' nodes) in its container: `cds serve --peer-listen`'s default port. */
export const CDS_PEER_PORT = 7071;
/** The flags of `voiceplane cds serve`, with their help (util.parseArgs reads the same table). */
export const CDS_SERVE_OPTIONS = {
  site: { type: 'string', value: 'ID', description: 'this site' },
  listen: { type: 'string', value: 'HOST:PORT', description: "the local API, for the site's own clients (with the token)" },
  'peer-listen': { type: 'string', value: 'HOST:PORT', description: `the peer API, for the other sites' nodes (default: --listen's host, port ${CDS_PEER_PORT}; any free port when --listen's is 0)` },
  'local-token-file': { type: 'string', value: 'FILE', description: "a file holding the token the site's clients present" },
  peer: { type: 'string', multiple: true, value: 'ID=URL[,URL...]', description: "another site's node, one URL per availability zone (repeat it)" },
  'peer-public-key': { type: 'string', multiple: true, value: 'ID=KEY', description: "another site's public key, as cds keygen prints it (repeat it)" },
  'peer-key-file': { type: 'string', value: 'FILE', description: "this site's private key (cds keygen writes it)" },
  'dynamodb-endpoint': { type: 'string', value: 'URL|aws', description: "the DynamoDB holding the calls: a URL, or aws for the region's own (default: an embedded one)" },
  table: { type: 'string', value: 'NAME', description: 'the calls table (default: cds-SITE)' },
  'archive-table': { type: 'string', value: 'NAME|ARN', description: 'the archive of ended calls (default: cds-archive)' },
  'heartbeat-ms': { type: 'string', value: 'N', description: 'how often peers are checked' },
  'expiry-ms': { type: 'string', value: 'N', description: 'how long a silent peer is waited for' },
  'end-grace-ms': { type: 'string', value: 'N', description: "how long an ended call's late writes are accepted" },
  'create-tables': { type: 'boolean', description: 'create the tables when missing' },
  'state-dir': { type: 'string', value: 'DIR', description: 'keep the embedded DynamoDB on disk here' },
  'media-server': { type: 'string', multiple: true, value: 'HOST:PORT', description: "a media server's event socket whose calls the node collects (repeat it)" },
  ...ESL_PASSWORD_OPTIONS,
} as const satisfies OptionTable;

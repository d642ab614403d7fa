import { CDS_LOCAL_TOKEN_VARIABLE, CDS_PEER_KEY_VARIABLE, ESL_PASSWORD_VARIABLE, SIP_RPC_TOKEN_VARIABLE } from '../commands/secret-variables';
import type { OptionTable } from './option-table';

/**
 * The flags of every `voiceplane` command, with their help. Kept apart from the commands themselves so that the
 * command tree (help, completion, parsing) loads without the AWS SDK or the ESL library.
 */

const JSON_OUTPUT = { json: { type: 'boolean', description: 'machine-readable output (JSON)' } } as const satisfies OptionTable;

const TOPOLOGY_FILE = {
  topology: { type: 'string', value: 'FILE', description: 'the topology file (default: stacks/topology.example.json)' },
} as const satisfies OptionTable;


export const ESL_PASSWORD_OPTIONS = {
  password: { type: 'string', value: 'PW', description: `the event socket password (shown by ps: prefer --password-file or ${ESL_PASSWORD_VARIABLE})` },
  'password-file': { type: 'string', value: 'FILE', description: 'a file holding the event socket password' },
} as const satisfies OptionTable;

const MEDIA_SERVER_TARGET = {
  esl: { type: 'string', value: 'HOST:PORT', description: "the media server's event socket" },
  ...ESL_PASSWORD_OPTIONS,
} as const satisfies OptionTable;

export const SYNTH_OPTIONS = {
  ...TOPOLOGY_FILE,
  out: { type: 'string', value: 'DIR', description: 'where to write the stacks (default: cdktf.out)' },
  stack: { type: 'string', multiple: true, value: 'NAME', description: 'synthesize only this stack, as a whole synth writes it (repeat it; default: every stack)' },
} as const satisfies OptionTable;

export const ROUTES_SHOW_OPTIONS = { ...MEDIA_SERVER_TARGET, ...JSON_OUTPUT } as const satisfies OptionTable;

export const ROUTES_SET_OPTIONS = {
  ...ROUTES_SHOW_OPTIONS,
  group: { type: 'string', multiple: true, value: 'ID=HOST:PORT[|HOST:PORT...][@WEIGHT]', description: 'a call-control group, in failover order (repeat it)' },
  share: {
    type: 'string',
    multiple: true,
    value: 'ID=PERCENT',
    description: "the percent of new calls tried on that group first (repeat it; the groups without one take the rest, in failover order)",
  },
  'dry-run': { type: 'boolean', description: 'show the change, make none' },
  'allow-single-group': { type: 'boolean', description: 'allow fewer than two active groups (no failover left)' },
} as const satisfies OptionTable;

export const ROUTES_GROUP_OPTIONS = {
  ...ROUTES_SHOW_OPTIONS,
  group: { type: 'string', multiple: true, value: 'ID', description: 'the call-control group' },
} as const satisfies OptionTable;

export const ROUTES_SHARE_OPTIONS = {
  ...ROUTES_GROUP_OPTIONS,
  percent: { type: 'string', value: 'PERCENT|none', description: 'the percent of new calls tried on the group first; none removes its share' },
} as const satisfies OptionTable;

export const CALLS_OPTIONS = {
  ...ROUTES_SHOW_OPTIONS,
  group: { type: 'string', multiple: true, value: 'ID', description: "only this group's calls" },
} as const satisfies OptionTable;

export const UPGRADE_STATE_OPTIONS = {
  'dynamodb-endpoint': { type: 'string', value: 'URL', description: 'a DynamoDB endpoint holding the upgrade state (with --table)' },
  table: { type: 'string', value: 'NAME', description: 'the upgrade state table (default: an embedded DynamoDB)' },
  region: { type: 'string', value: 'REGION', description: "the state table's region (default: AWS_REGION)" },
  'state-dir': { type: 'string', value: 'DIR', description: 'keep the embedded DynamoDB on disk here, to resume or report later' },
} as const satisfies OptionTable;

export const UPGRADE_OPTIONS = {
  inventory: { type: 'string', value: 'FILE', description: 'the fleet inventory (voiceplane inventory writes it)' },
  'media-server': { type: 'string', multiple: true, value: 'ID|all', description: 'a media server to upgrade (repeat it), or all' },
  group: { type: 'string', multiple: true, value: 'ID', description: 'a call-control group to upgrade, in order (repeat it)' },
  image: { type: 'string', value: 'REPOSITORY', description: 'the new image repository (one the inventory allows)' },
  version: { type: 'string', value: 'TAG', description: 'the new image tag' },
  'max-drain-seconds': { type: 'string', value: 'N', description: 'how long a drain may take before --on-timeout applies' },
  'on-timeout': { type: 'string', value: 'wait|force|abort', description: 'what to do when a drain takes longer' },
  concurrency: { type: 'string', value: 'N', description: 'media servers upgraded at once' },
  'upgrade-id': { type: 'string', value: 'ID', description: 'resume this upgrade (same options)' },
  canary: { type: 'string', value: 'SHARES', description: 'canary each upgraded group first: these percents of new calls, each held and judged (e.g. 5,25)' },
  'canary-hold': { type: 'string', value: 'HOLD', description: 'how long each canary step holds: 120s, 30m, 200calls, or both as 120s,200calls (default 120s)' },
  plan: { type: 'boolean', description: 'show the order, the drain policy and the calls now on each group; change nothing' },
  ...JSON_OUTPUT,
  ...UPGRADE_STATE_OPTIONS,
} as const satisfies OptionTable;

const UPGRADE_ID = { 'upgrade-id': { type: 'string', value: 'ID', description: 'the upgrade' } } as const satisfies OptionTable;

export const UPGRADE_STATUS_OPTIONS = { ...UPGRADE_ID, ...JSON_OUTPUT, ...UPGRADE_STATE_OPTIONS } as const satisfies OptionTable;

export const UPGRADE_HISTORY_OPTIONS = {
  limit: { type: 'string', value: 'N', description: 'how many upgrades, newest first (default 20)' },
  ...JSON_OUTPUT,
  ...UPGRADE_STATE_OPTIONS,
} as const satisfies OptionTable;

export const UPGRADE_REPORT_OPTIONS = {
  ...UPGRADE_ID,
  out: { type: 'string', value: 'FILE.html', description: 'the HTML page to write' },
  ...UPGRADE_STATE_OPTIONS,
} as const satisfies OptionTable;

export const INVENTORY_OPTIONS = {
  ...TOPOLOGY_FILE,
  outputs: {
    type: 'string',
    multiple: true,
    value: 'FILE|STACK=FILE',
    description: 'the stacks\' outputs: `cdktf output --outputs-file FILE`, or STACK=FILE from `terraform output -json` (repeat it)',
  },
  'data-center': { type: 'string', value: 'ID', description: 'only this data center (default: every one serving media servers)' },
  out: { type: 'string', value: 'FILE', description: 'write the inventory here, mode 0600 (default: stdout)' },
} as const satisfies OptionTable;

export const DEMO_OPTIONS = {
  freeswitch: { type: 'string', value: 'PATH', description: 'run the real FreeSWITCH binary at PATH as the media server instead of the simulator' },
  canary: { type: 'boolean', description: 'upgrade blue to a version that fails a share of its calls, with a canary that catches it and rolls it back' },
  ...JSON_OUTPUT,
} as const satisfies OptionTable;

export const CDS_KEYGEN_OPTIONS = {
  out: { type: 'string', value: 'FILE', description: 'the file to write the private key to (mode 0600, never over a file)' },
} as const satisfies OptionTable;

export const SIP_CONFIG_OPTIONS = {
  site: { type: 'string', value: 'ID', description: 'the site' },
  ...TOPOLOGY_FILE,
  out: { type: 'string', value: 'DIR', description: 'where to write kamailio.cfg and dispatcher.list' },
} as const satisfies OptionTable;

export const SIP_MAINTENANCE_OPTIONS = {
  site: { type: 'string', value: 'ID', description: 'the site' },
  'media-server': { type: 'string', value: 'ID', description: 'the media server' },
  rpc: { type: 'string', multiple: true, value: 'HOST:PORT', description: "a SIP node's RPC socket (repeat it for every node of the site)" },
  'rpc-token-file': { type: 'string', value: 'FILE', description: `a file holding the SIP nodes' RPC token (or ${SIP_RPC_TOKEN_VARIABLE})` },
  ...MEDIA_SERVER_TARGET,
  ...JSON_OUTPUT,
} as const satisfies OptionTable;

export const MEDIA_SERVER_CONFIG_OPTIONS = {
  site: { type: 'string', value: 'ID', description: 'the site' },
  'media-server': { type: 'string', value: 'ID', description: 'the media server' },
  ...TOPOLOGY_FILE,
  out: { type: 'string', value: 'DIR', description: 'where to write the FreeSWITCH configuration' },
  loopback: { type: 'boolean', description: 'bind everything to 127.0.0.1 (to run it on this machine)' },
  'esl-port': { type: 'string', value: 'PORT', description: 'the event socket port (with --loopback)' },
  'sip-port': { type: 'string', value: 'PORT', description: 'the SIP port (with --loopback)' },
  'rtp-ports': { type: 'string', value: 'FIRST-LAST', description: 'the RTP port range (with --loopback)' },
} as const satisfies OptionTable;

export const TOPOLOGY_DIAGRAM_OPTIONS = {
  ...TOPOLOGY_FILE,
  out: { type: 'string', value: 'FILE.svg', description: 'the SVG file to write' },
} as const satisfies OptionTable;

/** Help text after `cds serve`'s flags: where its secrets may come from instead. */
export const CDS_SERVE_SECRETS_HELP = `The private key may come from ${CDS_PEER_KEY_VARIABLE} instead of --peer-key-file, the local API token from ${CDS_LOCAL_TOKEN_VARIABLE} instead of --local-token-file, the event socket password from ${ESL_PASSWORD_VARIABLE}.`;

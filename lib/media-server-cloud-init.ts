import {
  ROUTE_TABLE_DB_KEY,
  ROUTE_TABLE_DB_REALM,
  RouteTable,
  encodeRouteTable,
} from '../runtime/dialplan';
import {
  ESL_PASSWORD_VARIABLE,
  HOST_VARIABLES_FILE,
  LOG_FILE,
  PUBLIC_IP_VARIABLE,
  SECRETS_FILE,
  renderMediaServerConfig,
} from '../runtime/freeswitch-config/media-server-config';
import { ESL_INBOUND_PORT } from '../runtime/freeswitch-config/media-server-ports';
import { MEDIA_SERVER_SYSCTL_FILE, renderMediaServerSysctl } from '../runtime/freeswitch-config/media-server-sysctl';
import { IMDS_ENDPOINT_LINE } from './instance-metadata-endpoint';
import { CLOUDWATCH_AGENT_CONFIG_FILE, CLOUD_INIT_OUTPUT_LOG, afterStep, cloudWatchAgentSetupScript, renderCloudWatchAgentConfig } from './cloudwatch-agent';

export interface MediaServerCloudInitOptions {
  readonly mediaServerId: string;
  /** Address every FreeSWITCH listener binds (never 0.0.0.0). */
  readonly privateIp: string;
  /** Networks admitted by the event socket's ACL (the data center's orchestrator subnets, the site's CDS). */
  readonly eslAllowedCidrs: readonly string[];
  /** Networks admitted by the SIP profile's ACL (where the site's SIP cluster nodes run). */
  readonly sipAllowedCidrs: readonly string[];
  /** Name of the Secrets Manager secret holding the ESL password, and its region. */
  readonly eslSecretName: string;
  readonly eslSecretRegion: string;
  /** Route table written into the core db on first boot only; afterwards the orchestrator owns it. */
  readonly initialRoutes: RouteTable;
  /** SRTP only on calls from the SIP cluster (a voice connector that requires encryption). @default false */
  readonly srtp?: boolean;
  /**
   * CloudWatch Logs group the CloudWatch agent ships FreeSWITCH's log and the boot's output to (after the boot).
   * @default no log shipping
   */
  readonly logGroupName?: string;
}

/** FreeSWITCH's log file on the AMI (Debian's log directory). */
export const FREESWITCH_LOG_FILE = `/var/log/freeswitch/${LOG_FILE}`;
const LOG_SHIPPING_SCRIPT = '/usr/local/sbin/voiceplane-log-shipping';

/** Where cloud-init writes our configuration; the boot script installs it as FreeSWITCH's whole configuration. */
export const MEDIA_SERVER_CONFIG_STAGING_DIR = '/etc/voiceplane/freeswitch';
/** FreeSWITCH's configuration directory in the AMI (Debian's layout). */
export const FREESWITCH_CONFIG_DIR = '/etc/freeswitch';
/**
 * fs_cli's system-wide configuration (it reads `/etc/fs_cli.conf`, then `$HOME/.fs_cli_conf`): cloud-init's units run
 * without HOME, so the boot's own fs_cli calls find the event socket only here. Root-only: it holds the password.
 */
export const FS_CLI_CONFIG_FILE = '/etc/fs_cli.conf';

/**
 * The cloud-init user data of a media server (pure, deterministic). It carries FreeSWITCH's complete configuration
 * (`runtime/freeswitch-config`, the same files `voiceplane media-server config` writes) and boot scripts that install
 * it in place of whatever configuration the AMI shipped, announce RTP on the instance's public address, and fetch the
 * ESL password from Secrets Manager (generating it on the very first boot), so the password is never in user data,
 * Terraform state or logs.
 */
export function renderMediaServerCloudInit(options: MediaServerCloudInitOptions): string {
  const config = renderMediaServerConfig({
    mediaServerId: options.mediaServerId,
    listenIp: options.privateIp,
    eslAllowedCidrs: [...options.eslAllowedCidrs],
    sipAllowedCidrs: [...options.sipAllowedCidrs],
    srtp: options.srtp ?? false,
  });
  const files = [
    ...Object.entries(config).map(([relative, content]) => ({ path: `${MEDIA_SERVER_CONFIG_STAGING_DIR}/${relative}`, permissions: '0640', content })),
    { path: MEDIA_SERVER_SYSCTL_FILE, permissions: '0644', content: renderMediaServerSysctl() },
    { path: '/usr/local/sbin/voiceplane-freeswitch-config', permissions: '0750', content: installConfigScript() },
    { path: '/usr/local/sbin/voiceplane-esl-password', permissions: '0750', content: eslPasswordScript(options) },
    { path: '/usr/local/sbin/voiceplane-seed-routes', permissions: '0750', content: seedRoutesScript(options) },
    { path: BOOT_SCRIPT, permissions: '0750', content: bootScript() },
    ...(options.logGroupName === undefined
      ? []
      : [
          {
            path: CLOUDWATCH_AGENT_CONFIG_FILE,
            permissions: '0644',
            content: renderCloudWatchAgentConfig([FREESWITCH_LOG_FILE, CLOUD_INIT_OUTPUT_LOG].map((filePath) => ({ filePath, logGroupName: options.logGroupName! }))),
          },
          { path: LOG_SHIPPING_SCRIPT, permissions: '0750', content: cloudWatchAgentSetupScript() },
        ]),
  ];
  const lines = ['#cloud-config', `# voiceplane media server ${options.mediaServerId}`, 'write_files:'];
  for (const file of files) {
    lines.push(`  - path: ${file.path}`, `    owner: root:root`, `    permissions: '${file.permissions}'`, '    content: |');
    lines.push(...file.content.trimEnd().split('\n').map((line) => (line === '' ? '' : `      ${line}`)));
  }
  lines.push('runcmd:', options.logGroupName === undefined ? `  - [${BOOT_SCRIPT}]` : `  - ${afterStep(BOOT_SCRIPT, LOG_SHIPPING_SCRIPT)}`);
  return `${lines.join('\n')}\n`;
}

const BOOT_SCRIPT = '/usr/local/sbin/voiceplane-boot';

/** The boot steps in order. cloud-init runs every runcmd entry whatever the previous one did; this stops at the first failure. */
function bootScript(): string {
  return `#!/bin/bash
# A failed step stops the boot: FreeSWITCH never starts without its ESL password or on a half-installed configuration.
set -euo pipefail
sysctl -p ${MEDIA_SERVER_SYSCTL_FILE}
/usr/local/sbin/voiceplane-freeswitch-config
/usr/local/sbin/voiceplane-esl-password
chown -R freeswitch:freeswitch ${FREESWITCH_CONFIG_DIR}
systemctl enable --now freeswitch
/usr/local/sbin/voiceplane-seed-routes
`;
}

function installConfigScript(): string {
  return `#!/bin/bash
# Installs voiceplane's FreeSWITCH configuration as the whole configuration: the AMI's own (stock users, modules
# we never load) is moved aside, never merged. Then records the public address RTP is announced on.
set -euo pipefail
umask 027
if [ -d ${FREESWITCH_CONFIG_DIR} ] && [ ! -e ${FREESWITCH_CONFIG_DIR}/.voiceplane ]; then
  rm -rf ${FREESWITCH_CONFIG_DIR}.ami && mv ${FREESWITCH_CONFIG_DIR} ${FREESWITCH_CONFIG_DIR}.ami
fi
rm -rf ${FREESWITCH_CONFIG_DIR}.next
cp -a ${MEDIA_SERVER_CONFIG_STAGING_DIR} ${FREESWITCH_CONFIG_DIR}.next
touch ${FREESWITCH_CONFIG_DIR}.next/.voiceplane
rm -rf ${FREESWITCH_CONFIG_DIR} && mv ${FREESWITCH_CONFIG_DIR}.next ${FREESWITCH_CONFIG_DIR}
${IMDS_ENDPOINT_LINE}
token=$(curl -sf -X PUT "$imds/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
public=$(curl -sf -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/public-ipv4" || curl -sf -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/local-ipv4")
printf '<include>\\n  <X-PRE-PROCESS cmd="set" data="${PUBLIC_IP_VARIABLE}=%s"/>\\n</include>\\n' "$public" > ${FREESWITCH_CONFIG_DIR}/${HOST_VARIABLES_FILE}
`;
}

function eslPasswordScript(options: MediaServerCloudInitOptions): string {
  const secretsFile = `${FREESWITCH_CONFIG_DIR}/${SECRETS_FILE}`;
  return `#!/bin/bash
# Fetches the ESL password; the first media server of the site to boot generates it. A fixed
# client request token makes concurrent first boots agree on one value.
set -euo pipefail
umask 077
secret='${options.eslSecretName}'
region='${options.eslSecretRegion}'
read_password() { aws secretsmanager get-secret-value --region "$region" --secret-id "$secret" --query SecretString --output text 2>/dev/null; }
password="$(read_password || true)"
if [ -z "$password" ]; then
  candidate="$(openssl rand -hex 24)"
  aws secretsmanager put-secret-value --region "$region" --secret-id "$secret" \\
    --client-request-token 00000000-0000-4000-8000-000000000001 --secret-string "$candidate" >/dev/null 2>&1 || true
  password="$(read_password)"
fi
printf '<include>\\n  <X-PRE-PROCESS cmd="set" data="${ESL_PASSWORD_VARIABLE}=%s"/>\\n</include>\\n' "$password" > ${secretsFile}
printf '[default]\\nhost => ${options.privateIp}\\nport => ${ESL_INBOUND_PORT}\\npassword => %s\\n' "$password" > ${FS_CLI_CONFIG_FILE}
chown freeswitch:freeswitch ${secretsFile}
chmod 0400 ${secretsFile}
`;
}

function seedRoutesScript(options: MediaServerCloudInitOptions): string {
  return `#!/bin/bash
# Writes the initial call-control route table once; later boots keep what the orchestrator wrote. Calls read the
# core db while the in-memory copy (mod_hash) is empty, so the db is all a first boot needs.
set -euo pipefail
for attempt in $(seq 1 60); do fs_cli -x status >/dev/null 2>&1 && break; sleep 2; done
current="$(fs_cli -x 'db select/${ROUTE_TABLE_DB_REALM}/${ROUTE_TABLE_DB_KEY}')"
case "$current" in
  ''|-ERR*) fs_cli -x 'db insert/${ROUTE_TABLE_DB_REALM}/${ROUTE_TABLE_DB_KEY}/${encodeRouteTable(options.initialRoutes)}' ;;
esac
`;
}

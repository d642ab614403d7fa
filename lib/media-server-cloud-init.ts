import {
  ROUTE_TABLE_DB_KEY,
  ROUTE_TABLE_DB_REALM,
  RouteTable,
  encodeRouteTable,
  renderCallControlDialplan,
} from '../runtime/dialplan';
import { ESL_INBOUND_PORT } from './ports';

export interface MediaServerCloudInitOptions {
  readonly mediaServerId: string;
  /** Address the event socket listens on (never 0.0.0.0). */
  readonly privateIp: string;
  /** Networks admitted by the event socket's ACL (the data center's orchestrator subnets, the site's CDS). */
  readonly eslAllowedCidrs: readonly string[];
  /** Name of the Secrets Manager secret holding the ESL password, and its region. */
  readonly eslSecretName: string;
  readonly eslSecretRegion: string;
  /** Route table written into the core db on first boot only; afterwards the orchestrator owns it. */
  readonly initialRoutes: RouteTable;
}

const ESL_ACL_NAME = 'voiceplane_esl';
/**
 * Dialplan context of calls arriving from the SIP cluster (the FreeSWITCH SIP profile facing it
 * must use `context=voiceplane`). A dedicated context: FreeSWITCH uses the first context of a
 * name, so reusing the stock `public` one would depend on file order.
 */
export const MEDIA_SERVER_DIALPLAN_CONTEXT = 'voiceplane';
const SECRETS_INCLUDE = '/etc/freeswitch/voiceplane-secrets.xml';

/**
 * The cloud-init user data of a media server (pure, deterministic). It installs the event socket
 * configuration (private address, ACL), the call-control dialplan extension and a boot script
 * that fetches the ESL password from Secrets Manager, generating it on the very first boot, so the
 * password is never in user data, Terraform state or logs.
 */
export function renderMediaServerCloudInit(options: MediaServerCloudInitOptions): string {
  if (options.eslAllowedCidrs.length === 0) {
    throw new Error('eslAllowedCidrs must name at least one network: an event socket open to all is refused');
  }
  const files = [
    { path: '/etc/freeswitch/autoload_configs/event_socket.conf.xml', permissions: '0640', content: eventSocketConfig(options.privateIp) },
    { path: '/etc/freeswitch/autoload_configs/acl.conf.xml', permissions: '0640', content: aclConfig(options.eslAllowedCidrs) },
    // The document brings its own <context> elements, so it sits at the top level of dialplan/.
    {
      path: '/etc/freeswitch/dialplan/voiceplane_call_control.xml',
      permissions: '0640',
      content: renderCallControlDialplan({ context: MEDIA_SERVER_DIALPLAN_CONTEXT }),
    },
    { path: '/usr/local/sbin/voiceplane-esl-password', permissions: '0750', content: eslPasswordScript(options) },
    { path: '/usr/local/sbin/voiceplane-seed-routes', permissions: '0750', content: seedRoutesScript(options) },
  ];
  const lines = ['#cloud-config', `# voiceplane media server ${options.mediaServerId}`, 'write_files:'];
  for (const file of files) {
    lines.push(`  - path: ${file.path}`, `    owner: root:root`, `    permissions: '${file.permissions}'`, '    content: |');
    lines.push(...file.content.trimEnd().split('\n').map((line) => (line === '' ? '' : `      ${line}`)));
  }
  lines.push(
    'runcmd:',
    '  - [/usr/local/sbin/voiceplane-esl-password]',
    '  - [chown, -R, "freeswitch:freeswitch", /etc/freeswitch]',
    '  - [systemctl, enable, --now, freeswitch]',
    '  - [/usr/local/sbin/voiceplane-seed-routes]',
  );
  return `${lines.join('\n')}\n`;
}

function eventSocketConfig(privateIp: string): string {
  return `<configuration name="event_socket.conf" description="Socket Client">
  <settings>
    <param name="nat-map" value="false"/>
    <param name="listen-ip" value="${privateIp}"/>
    <param name="listen-port" value="${ESL_INBOUND_PORT}"/>
    <X-PRE-PROCESS cmd="include" data="${SECRETS_INCLUDE}"/>
    <param name="password" value="$\${voiceplane_esl_password}"/>
    <param name="apply-inbound-acl" value="${ESL_ACL_NAME}"/>
  </settings>
</configuration>
`;
}

function aclConfig(allowedCidrs: readonly string[]): string {
  const nodes = allowedCidrs.map((cidr) => `      <node type="allow" cidr="${cidr}"/>`).join('\n');
  return `<configuration name="acl.conf" description="Network Lists">
  <network-lists>
    <list name="${ESL_ACL_NAME}" default="deny">
${nodes}
    </list>
  </network-lists>
</configuration>
`;
}

function eslPasswordScript(options: MediaServerCloudInitOptions): string {
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
printf '<include>\\n  <X-PRE-PROCESS cmd="set" data="voiceplane_esl_password=%s"/>\\n</include>\\n' "$password" > ${SECRETS_INCLUDE}
printf '[default]\\nhost => ${options.privateIp}\\nport => ${ESL_INBOUND_PORT}\\npassword => %s\\n' "$password" > /root/.fs_cli_conf
chown freeswitch:freeswitch ${SECRETS_INCLUDE}
chmod 0400 ${SECRETS_INCLUDE}
`;
}

function seedRoutesScript(options: MediaServerCloudInitOptions): string {
  return `#!/bin/bash
# Writes the initial call-control route table once; later boots keep what the orchestrator wrote.
set -euo pipefail
for attempt in $(seq 1 60); do fs_cli -x status >/dev/null 2>&1 && break; sleep 2; done
current="$(fs_cli -x 'db select/${ROUTE_TABLE_DB_REALM}/${ROUTE_TABLE_DB_KEY}')"
case "$current" in
  ''|-ERR*) fs_cli -x 'db insert/${ROUTE_TABLE_DB_REALM}/${ROUTE_TABLE_DB_KEY}/${encodeRouteTable(options.initialRoutes)}' ;;
esac
`;
}

import * as path from 'path';
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { LbTargetGroupAttachment } from '@cdktf/provider-aws/lib/lb-target-group-attachment';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import {
  ALLOWED_SOURCE_CIDRS_VARIABLE,
  DISPATCHER_LIST_FILE,
  KAMAILIO_CONFIG_FILE,
  KAMAILIO_LOG_NAME,
  NODE_ADDRESS_VARIABLE,
  PUBLIC_ADDRESS_VARIABLE,
  RPC_ALLOWED_CIDRS_VARIABLE,
  RPC_AUTHORIZATION_DEFINE,
  RPC_TOKEN_PATTERN,
  SipConfigFiles,
  SipSite,
  renderSipConfigFiles,
  resolveKamailioSettings,
} from '../runtime/sip';
import { replaceableSecurityGroup } from './replaceable-security-group';
import { markComponent } from './component';
import { kmsKeyStatements } from './customer-managed-key';
import { instanceLaunchTemplate } from './instance-launch-template';
import { IMDS_ENDPOINT_LINE } from './instance-metadata-endpoint';
import { CLOUDWATCH_AGENT_CONFIG_FILE, CLOUD_INIT_OUTPUT_LOG, afterStep, cloudWatchAgentSetupScript, logShippingStatement, renderCloudWatchAgentConfig } from './cloudwatch-agent';
import { SSM_MANAGED_INSTANCE_POLICY_ARN, assumeRolePolicy, attachManagedPolicies, policyDocument } from './iam-policy';

const KAMAILIO_SETTINGS = resolveKamailioSettings();
/** Kamailio's JSON-RPC over HTTP (`voiceplane sip --rpc HOST:PORT`), reachable only from the orchestrators' subnets and the node itself. */
export const KAMAILIO_RPC_PORT = KAMAILIO_SETTINGS.rpcPort;
/** Where cloud-init installs the rendered files: next to the dispatcher list kamailio.cfg names. */
const CONFIG_DIRECTORY = path.posix.dirname(KAMAILIO_SETTINGS.dispatcherListPath);
/** Where the node's syslog writes Kamailio's lines (the call and 5xx lines among them): the file the agent ships. */
export const KAMAILIO_LOG_FILE = '/var/log/kamailio/kamailio.log';
/** Operators on the node itself (`voiceplane sip --rpc 127.0.0.1:5090` over SSM) may use the RPC interface. */
const NODE_LOOPBACK_CIDR = '127.0.0.1/32';

export interface SipHaClusterProps {
  /** Load balancer and resource name prefix (at most 28 characters). */
  readonly name: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  /**
   * Public subnets of the load balancer and of the nodes, spread round-robin. Each node has an
   * Elastic IP: the voice connector sends calls to every node directly.
   */
  readonly publicSubnetIds: string[];
  /** Number of Kamailio nodes (a voice connector takes at most 10 origination routes). */
  readonly size: number;
  /**
   * The site's id and its media servers at their SIP addresses, in dispatch order. With `tls` (a voice connector that
   * requires encryption) the nodes take SIP over TLS on 5061 with the certificate of the cluster's secret
   * ({@link SipHaCluster.tlsCertificateSecretName}), and 5060 only from inside the VPC.
   */
  readonly site: SipSite;
  /** Region of the site, where the nodes read their secrets (RPC token, TLS certificate) from at boot. */
  readonly region: string;
  /**
   * Customer-managed KMS key of the RPC token and TLS certificate secrets (a key of `region`).
   * @default the AWS-managed key of Secrets Manager
   */
  readonly kmsKeyArn?: string;
  /**
   * Sources allowed to send SIP to 5060, or to 5061 over TLS with `site.tls` (the site's voice connector's signalling
   * networks): admitted by the security group and checked again by Kamailio, which answers others 403.
   */
  readonly allowedSourceCidrs: readonly string[];
  /**
   * The only networks allowed to reach the RPC socket (the upgrade orchestrators' subnets); nothing else
   * in the site VPC may, as the RPC can take every media server out of the dispatcher. Requests must also carry
   * the site's RPC token ({@link SipHaCluster.rpcTokenSecretArn}).
   */
  readonly rpcAllowedCidrs: readonly string[];
  /**
   * EC2 instance type of a node.
   * @default 'c6i.large'
   */
  readonly instanceType?: string;
  /**
   * SSM parameter holding the Debian AMI id the nodes start from.
   * @default '/aws/service/debian/release/12/latest/amd64'
   */
  readonly amiParameterName?: string;
  /**
   * Days to keep the nodes' logs (Kamailio's, the boot's output) in CloudWatch Logs, encrypted with `kmsKeyArn` when
   * given (its key policy must then let CloudWatch Logs use it).
   * @default 30
   */
  readonly logRetentionDays?: number;
}

/**
 * The site's SIP high-availability cluster: Kamailio nodes with public addresses (the voice connector's
 * origination routes) behind an internet-facing network load balancer on UDP and TCP 5060 (other SIP
 * peers), dispatching new calls to the site's media servers and drainable over each node's RPC socket.
 */
export class SipHaCluster extends Construct {
  public readonly loadBalancerArn: string;
  public readonly loadBalancerDnsName: string;
  public readonly securityGroupId: string;
  public readonly instanceIds: string[];
  public readonly nodePrivateIps: string[];
  /** Elastic IPs of the nodes, advertised in their SIP headers. */
  public readonly nodePublicIps: string[];
  /** RPC sockets of the nodes as HOST:PORT, what `voiceplane sip drain|undrain|status --rpc` takes. */
  public readonly rpcEndpoints: string[];
  /** The files every node runs, identical to `voiceplane sip config` for the same site. */
  public readonly configFiles: SipConfigFiles;
  /** The rendered cloud-init, exposed for review and tests. */
  public readonly userData: string;
  /**
   * With `site.tls`: the secret the nodes read their TLS private key and certificate chain from at boot (one PEM
   * string), created without a value: put it out of band.
   */
  public readonly tlsCertificateSecretName?: string;
  /**
   * The secret holding the bearer token every RPC request must carry (`voiceplane sip drain --rpc-token-file`), read by
   * the nodes at boot; created without a value: put one of at least 32 characters out of band before the nodes boot.
   */
  public readonly rpcTokenSecretArn: string;
  /** The group the nodes ship their logs to: Kamailio's (with its call and 5xx lines), the boot's output. */
  public readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: SipHaClusterProps) {
    super(scope, id);
    markComponent(this, 'sip-cluster');
    if (!Number.isInteger(props.size) || props.size < 1 || props.size > 10) {
      throw new Error(`size must be an integer from 1 to 10 (a voice connector routes to at most 10 hosts), got ${props.size}`);
    }
    if (props.name.length > 28) {
      throw new Error(`name must be at most 28 characters, got "${props.name}"`);
    }
    this.configFiles = renderSipConfigFiles(props.site);
    if (props.allowedSourceCidrs.length === 0) {
      throw new Error('allowedSourceCidrs must name at least one network (the voice connector sends SIP from its signalling networks)');
    }
    const tls = props.site.tls === true;
    // Put out of band like the other secrets: their values are never in Terraform state or user data.
    const rpcTokenSecretName = `${props.name}-sip-rpc-token`;
    const rpcTokenSecret = new SecretsmanagerSecret(this, 'RpcToken', {
      name: rpcTokenSecretName,
      description: `Bearer token of the Kamailio RPC sockets of the SIP nodes of site ${props.site.id}, set outside Terraform`,
      recoveryWindowInDays: 7,
      kmsKeyId: props.kmsKeyArn,
    });
    this.rpcTokenSecretArn = rpcTokenSecret.arn;
    const certificateSecret = tls
      ? new SecretsmanagerSecret(this, 'TlsCertificate', {
          name: `${props.name}-sip-tls-certificate`,
          description: `TLS private key and certificate chain (one PEM) of the SIP nodes of site ${props.site.id}, set outside Terraform`,
          recoveryWindowInDays: 7,
          kmsKeyId: props.kmsKeyArn,
        })
      : undefined;
    this.tlsCertificateSecretName = certificateSecret?.name;
    const logGroupName = `/voiceplane/sip/${props.name}`;
    this.logGroup = new CloudwatchLogGroup(this, 'LogGroup', { name: logGroupName, retentionInDays: props.logRetentionDays ?? 30, kmsKeyId: props.kmsKeyArn });
    this.userData = renderSipNodeCloudInit(this.configFiles, {
      logGroupName,
      rpcAllowedCidrs: [NODE_LOOPBACK_CIDR, ...props.rpcAllowedCidrs],
      allowedSourceCidrs: props.allowedSourceCidrs,
      region: props.region,
      rpcTokenSecretName,
      tlsCertificateSecretName: certificateSecret ? `${props.name}-sip-tls-certificate` : undefined,
    });

    const securityGroup = replaceableSecurityGroup(this, 'SecurityGroup', {
      namePrefix: `${props.name}-sip-`,
      description: 'SIP cluster: SIP from carriers, SIP from media servers, RPC from the orchestrator',
      vpcId: props.vpcId,
    });
    this.securityGroupId = securityGroup.id;
    const ingress = (ruleId: string, description: string, ipProtocol: string, port: number, cidrIpv4: string) =>
      new VpcSecurityGroupIngressRule(this, ruleId, { securityGroupId: securityGroup.id, description, ipProtocol, fromPort: port, toPort: port, cidrIpv4 });
    if (tls) {
      props.allowedSourceCidrs.forEach((cidr, index) => ingress(`SipTls-${index}`, 'SIP signalling over TLS', 'tcp', KAMAILIO_SETTINGS.tlsPort, cidr));
    } else {
      for (const protocol of ['udp', 'tcp']) {
        props.allowedSourceCidrs.forEach((cidr, index) => ingress(`Sip-${protocol}-${index}`, 'SIP signalling', protocol, KAMAILIO_SETTINGS.sipPort, cidr));
      }
    }
    ingress('SipHealthFromVpc', 'Load balancer health checks', 'tcp', KAMAILIO_SETTINGS.sipPort, props.vpcCidr);
    ingress('SipFromMediaServers', 'In-dialog SIP from the media servers', 'udp', KAMAILIO_SETTINGS.mediaServerFacingPort, props.vpcCidr);
    props.rpcAllowedCidrs.forEach((cidr, index) => ingress(`RpcFromOrchestrator${index}`, 'Kamailio JSON-RPC from the upgrade orchestrator', 'tcp', KAMAILIO_RPC_PORT, cidr));
    new VpcSecurityGroupEgressRule(this, 'AllEgress', {
      securityGroupId: securityGroup.id,
      description: 'SIP to media servers and carriers, package installs',
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
    });

    const role = new IamRole(this, 'Role', {
      namePrefix: `${props.name}-sip-`.slice(0, 38),
      assumeRolePolicy: assumeRolePolicy('ec2.amazonaws.com'),
    });
    attachManagedPolicies(this, 'Role', role.name, [SSM_MANAGED_INSTANCE_POLICY_ARN]);
    new IamRolePolicy(this, 'NodeSecretsPolicy', {
      role: role.id,
      policy: policyDocument([
        { actions: ['secretsmanager:GetSecretValue'], resources: [rpcTokenSecret.arn, ...(certificateSecret ? [certificateSecret.arn] : [])] },
        ...kmsKeyStatements(props.kmsKeyArn, ['secretsmanager'], 'read'),
      ]),
    });
    new IamRolePolicy(this, 'LogShippingPolicy', { role: role.id, policy: policyDocument([logShippingStatement([this.logGroup.arn])]) });
    const launchTemplate = instanceLaunchTemplate(this, {
      namePrefix: `${props.name}-sip-`,
      profileNamePrefix: `${props.name}-sip-`.slice(0, 38),
      roleName: role.name,
      amiParameterName: props.amiParameterName ?? '/aws/service/debian/release/12/latest/amd64',
      instanceType: props.instanceType ?? 'c6i.large',
      rootVolumeGiB: 16,
      userData: this.userData,
      userDataOwner: `the SIP nodes of site ${props.site.id}`,
      securityGroupIds: [securityGroup.id],
    });

    const loadBalancer = new Lb(this, 'LoadBalancer', {
      name: `${props.name}-sip`,
      internal: false,
      loadBalancerType: 'network',
      subnets: props.publicSubnetIds,
      enableCrossZoneLoadBalancing: true,
      enableDeletionProtection: true,
    });
    this.loadBalancerArn = loadBalancer.arn;
    this.loadBalancerDnsName = loadBalancer.dnsName;
    const targetGroup = new LbTargetGroup(this, 'TargetGroup', {
      namePrefix: 'sip-',
      targetType: 'instance',
      protocol: 'TCP_UDP',
      port: KAMAILIO_SETTINGS.sipPort,
      vpcId: props.vpcId,
      preserveClientIp: 'true',
      healthCheck: { protocol: 'TCP', port: String(KAMAILIO_SETTINGS.sipPort), interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
      lifecycle: { createBeforeDestroy: true },
    });
    new LbListener(this, 'SipListener', {
      loadBalancerArn: loadBalancer.arn,
      protocol: 'TCP_UDP',
      port: KAMAILIO_SETTINGS.sipPort,
      defaultAction: [{ type: 'forward', targetGroupArn: targetGroup.arn }],
    });

    const nodes = Array.from({ length: props.size }, (_, index) => {
      const instance = new Instance(this, `Node${index}`, {
        launchTemplate: { id: launchTemplate.id, version: '$Default' },
        subnetId: props.publicSubnetIds[index % props.publicSubnetIds.length],
        tags: { Name: `${props.name}-sip-${index}` },
        // A new launch template version must not replace a node carrying calls; roll it out deliberately.
        lifecycle: { ignoreChanges: ['launch_template'] },
      });
      new LbTargetGroupAttachment(this, `Node${index}Target`, { targetGroupArn: targetGroup.arn, targetId: instance.id, port: KAMAILIO_SETTINGS.sipPort });
      const address = new Eip(this, `Node${index}PublicAddress`, { domain: 'vpc', instance: instance.id, tags: { Name: `${props.name}-sip-${index}` } });
      return { instance, address };
    });
    this.instanceIds = nodes.map(({ instance }) => instance.id);
    this.nodePrivateIps = nodes.map(({ instance }) => instance.privateIp);
    this.nodePublicIps = nodes.map(({ address }) => address.publicIp);
    this.rpcEndpoints = this.nodePrivateIps.map((ip) => `${ip}:${KAMAILIO_RPC_PORT}`);
  }
}

/**
 * Installs the rendered files, then (once the Elastic IP is attached: no public address, no package
 * mirror) writes the node's environment from the instance metadata and starts Kamailio with it.
 */
interface SipNodeBootOptions {
  /** Where the CloudWatch agent ships the node's logs. */
  readonly logGroupName: string;
  readonly rpcAllowedCidrs: readonly string[];
  readonly allowedSourceCidrs: readonly string[];
  /** Where the secrets are. */
  readonly region: string;
  /** The secret the RPC token comes from. */
  readonly rpcTokenSecretName: string;
  /** The secret the node's TLS key and certificate chain come from, for sites with TLS. */
  readonly tlsCertificateSecretName?: string;
}

function renderSipNodeCloudInit(files: SipConfigFiles, sources: SipNodeBootOptions): string {
  const file = (name: keyof SipConfigFiles) => [
    `  - path: ${CONFIG_DIRECTORY}/${name}`,
    "    permissions: '0644'",
    '    encoding: b64',
    `    content: ${Buffer.from(files[name]).toString('base64')}`,
  ];
  const setup = `#!/bin/sh
set -eu
${IMDS_ENDPOINT_LINE}
token=$(curl -sf -X PUT "$imds/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 900')
meta() { curl -sf -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/$1" || true; }
public=''
for _ in $(seq 1 60); do
  public=$(meta public-ipv4)
  [ -n "$public" ] && break
  sleep 5
done
[ -n "$public" ] || { echo 'voiceplane: no Elastic IP attached after 5 minutes' >&2; exit 1; }
mkdir -p /etc/default/kamailio.d
cat > /etc/default/kamailio.d/voiceplane <<EOF
CFGFILE=${CONFIG_DIRECTORY}/${KAMAILIO_CONFIG_FILE}
${NODE_ADDRESS_VARIABLE}=$(meta local-ipv4)
${PUBLIC_ADDRESS_VARIABLE}=$public
${RPC_ALLOWED_CIDRS_VARIABLE}=${sources.rpcAllowedCidrs.join(',')}
${ALLOWED_SOURCE_CIDRS_VARIABLE}=${sources.allowedSourceCidrs.join(',')}
EOF
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${sources.tlsCertificateSecretName ? 'kamailio kamailio-tls-modules awscli' : 'kamailio awscli'}
umask 077
${installRpcToken(sources.rpcTokenSecretName, sources.region)}${sources.tlsCertificateSecretName ? installTlsCertificate(sources.tlsCertificateSecretName, sources.region) : ''}systemctl enable kamailio
systemctl restart kamailio
`;
  return [
    '#cloud-config',
    '# voiceplane SIP cluster node',
    'write_files:',
    ...file(KAMAILIO_CONFIG_FILE),
    ...file(DISPATCHER_LIST_FILE),
    ...textFile('/usr/local/sbin/voiceplane-sip-node-setup', '0755', setup),
    ...textFile(KAMAILIO_SYSLOG_RULE_FILE, '0644', kamailioSyslogRule()),
    ...textFile('/etc/logrotate.d/voiceplane-kamailio', '0644', kamailioLogRotation()),
    ...textFile(CLOUDWATCH_AGENT_CONFIG_FILE, '0644', renderCloudWatchAgentConfig([KAMAILIO_LOG_FILE, CLOUD_INIT_OUTPUT_LOG].map((filePath) => ({ filePath, logGroupName: sources.logGroupName })))),
    ...textFile(LOG_SHIPPING_SCRIPT, '0750', cloudWatchAgentSetupScript(SYSLOG_SETUP)),
    'runcmd:',
    `  - ${afterStep('/usr/local/sbin/voiceplane-sip-node-setup', LOG_SHIPPING_SCRIPT)}`,
    '',
  ].join('\n');
}

const LOG_SHIPPING_SCRIPT = '/usr/local/sbin/voiceplane-log-shipping';
const KAMAILIO_SYSLOG_RULE_FILE = '/etc/rsyslog.d/40-voiceplane-kamailio.conf';

const textFile = (filePath: string, permissions: string, content: string) => [
  `  - path: ${filePath}`,
  `    permissions: '${permissions}'`,
  '    content: |',
  ...content.trimEnd().split('\n').map((line) => (line === '' ? '' : `      ${line}`)),
];

/** rsyslog's rule filing Kamailio's lines (its syslog identity) into the shipped file, and only there. */
function kamailioSyslogRule(): string {
  return `# voiceplane: Kamailio's lines into the file the CloudWatch agent ships.
if $programname == '${KAMAILIO_LOG_NAME}' then {
  action(type="omfile" file="${KAMAILIO_LOG_FILE}" fileCreateMode="0640" dirCreateMode="0750")
  stop
}
`;
}

/** A week of Kamailio's file on the node (the agent follows the rotation; CloudWatch Logs keeps the history). */
function kamailioLogRotation(): string {
  return `${KAMAILIO_LOG_FILE} {
  daily
  rotate 7
  compress
  delaycompress
  missingok
  notifempty
  postrotate
    /usr/lib/rsyslog/rsyslog-rotate
  endscript
}
`;
}

/**
 * Syslog for the agent to read: Debian's cloud images keep logs in the journal only. The rule file is in place
 * before rsyslog starts; an rsyslog already running (another AMI) is restarted to read it.
 */
const SYSLOG_SETUP = `if command -v rsyslogd >/dev/null; then
  systemctl try-restart rsyslog || warn "cannot restart rsyslog, Kamailio's log is not written to ${KAMAILIO_LOG_FILE}"
elif ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q rsyslog; then
  warn "cannot install rsyslog, Kamailio's log is not written to ${KAMAILIO_LOG_FILE}"
fi
`;

/**
 * Boot step of a node with TLS: the key and certificate chain from the site's secret into a file only Kamailio can
 * read. Fails closed: without a usable secret the boot stops before Kamailio is enabled or started.
 */
function installTlsCertificate(secretName: string, region: string): string {
  const file = KAMAILIO_SETTINGS.tlsCertificatePath;
  const directory = path.posix.dirname(file);
  return `install -d -m 0750 -o root -g kamailio ${directory}
bundle=$(aws secretsmanager get-secret-value --region ${region} --secret-id ${secretName} --query SecretString --output text) || {
  echo 'voiceplane: cannot read the TLS certificate secret ${secretName}; Kamailio not started' >&2; exit 1; }
case "$bundle" in
  *'PRIVATE KEY-----'*'-----BEGIN CERTIFICATE-----'*) ;;
  *) echo 'voiceplane: secret ${secretName} holds no PEM private key followed by its certificate chain; Kamailio not started' >&2; exit 1 ;;
esac
printf '%s\\n' "$bundle" > ${file}.new
unset bundle
chown kamailio:kamailio ${file}.new
chmod 0400 ${file}.new
mv ${file}.new ${file}
`;
}

/**
 * Boot step of every node: the SHA-256 of the Authorization header RPC requests must carry (`Bearer` and the token
 * from the site's secret) into the kamailio.cfg include, readable by Kamailio only. Fails closed: without a token of the
 * accepted form (which cannot break out of the quoted string) the boot stops before Kamailio is enabled or started.
 */
function installRpcToken(secretName: string, region: string): string {
  const file = KAMAILIO_SETTINGS.rpcTokenPath;
  return `install -d -m 0750 -o root -g kamailio ${path.posix.dirname(file)}
rpc_token=$(aws secretsmanager get-secret-value --region ${region} --secret-id ${secretName} --query SecretString --output text) || {
  echo 'voiceplane: cannot read the RPC token secret ${secretName}; Kamailio not started' >&2; exit 1; }
[ "$(printf '%s\\n' "$rpc_token" | wc -l)" -eq 1 ] && printf '%s\\n' "$rpc_token" | grep -Eqx '${RPC_TOKEN_PATTERN}' || {
  echo 'voiceplane: secret ${secretName} holds no RPC token (32 to 512 of A-Z a-z 0-9 . _ ~ + / = -); Kamailio not started' >&2; exit 1; }
rpc_digest=$(printf 'Bearer %s' "$rpc_token" | sha256sum | cut -d ' ' -f 1)
unset rpc_token
printf '#!define ${RPC_AUTHORIZATION_DEFINE} "%s"\\n' "$rpc_digest" > ${file}.new
chown kamailio:kamailio ${file}.new
chmod 0400 ${file}.new
mv ${file}.new ${file}
`;
}

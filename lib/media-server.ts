import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { RouteTable } from '../runtime/dialplan';
import { replaceableSecurityGroup } from './replaceable-security-group';
import { markComponent } from './component';
import { instanceLaunchTemplate } from './instance-launch-template';
import { SSM_MANAGED_INSTANCE_POLICY_ARN, assumeRolePolicy, attachManagedPolicies, policyDocument } from './iam-policy';
import { kmsKeyStatements } from './customer-managed-key';
import { renderMediaServerCloudInit } from './media-server-cloud-init';
import { logShippingStatement } from './cloudwatch-agent';
import { ESL_INBOUND_PORT, RTP_PORTS, SIP_PORT } from './ports';

/** Largest user data EC2 accepts, before base64 (gzip-compressed here; cloud-init detects it). */

export interface MediaServerProps {
  /** Resource name prefix, e.g. `acme-west-ms-1`. */
  readonly name: string;
  readonly mediaServerId: string;
  readonly vpcId: string;
  /** Public subnet holding the media server (RTP must reach it from carriers). */
  readonly subnetId: string;
  /** Fixed private address inside that subnet; call control admits exactly this address. */
  readonly privateIp: string;
  /**
   * EC2 instance type.
   * @default 'c6i.xlarge'
   */
  readonly instanceType?: string;
  /**
   * SSM parameter holding the FreeSWITCH AMI id, resolved by EC2 at launch (no AWS lookup at plan time).
   * @default '/voiceplane/freeswitch/ami-id'
   */
  readonly amiParameterName?: string;
  /** Networks allowed to reach the event socket: the orchestrator's subnets in the data center. */
  readonly eslAllowedCidrs: readonly string[];
  /**
   * Security groups in the site allowed to reach the event socket (e.g. the CDS node).
   * @default none
   */
  readonly eslAllowedSecurityGroupIds?: readonly string[];
  /**
   * The site networks those security groups' members connect from (e.g. the private subnets of the
   * CDS task). FreeSWITCH's ACL cannot name a security group, so it admits these networks instead;
   * the security group still admits only the groups.
   * @default none
   */
  readonly eslSiteSourceCidrs?: readonly string[];
  /** Security group of the SIP cluster: the only SIP source. */
  readonly sipClusterSecurityGroupId: string;
  /** The networks the SIP cluster's nodes send from (FreeSWITCH's SIP ACL cannot name a security group). */
  readonly sipClusterCidrs: readonly string[];
  /** The ESL password secret: its ARN for the instance role, its name and region for the boot script. */
  readonly eslSecretArn: string;
  readonly eslSecretName: string;
  readonly eslSecretRegion: string;
  /**
   * Customer-managed KMS key of the ESL password secret (a key of `eslSecretRegion`), which the instance may use
   * through Secrets Manager to read and store the password.
   * @default the AWS-managed key of Secrets Manager
   */
  readonly eslSecretKmsKeyArn?: string;
  /** Call-control route table written on first boot. */
  readonly initialRoutes: RouteTable;
  /**
   * Accept only SRTP (RTP/SAVP with SDES keys) on calls from the SIP cluster, as a voice connector that requires
   * encryption sends them; plain RTP only otherwise.
   * @default false
   */
  readonly srtp?: boolean;
  /**
   * Days to keep the media server's logs (FreeSWITCH's log and the boot's output) in CloudWatch Logs.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * Customer-managed KMS key (ARN, of the media server's region) encrypting its log group; its key policy must let
   * CloudWatch Logs use it.
   * @default CloudWatch Logs' own encryption
   */
  readonly kmsKeyArn?: string;
}

/**
 * A FreeSWITCH media server: an EC2 instance from a launch template (IMDSv2 required, encrypted
 * root volume, no SSH key: operators use SSM), a fixed private address and an Elastic IP for RTP.
 * Its event socket listens on the private address only, behind both a security group and a
 * FreeSWITCH ACL admitting the data center's orchestrator subnets (and the site services named).
 */
export class MediaServer extends Construct {
  public readonly instanceId: string;
  public readonly privateIp: string;
  public readonly publicIp: string;
  public readonly securityGroupId: string;
  public readonly launchTemplateId: string;
  public readonly roleArn: string;
  /** The rendered cloud-init, exposed for review and tests. */
  public readonly userData: string;
  /** The group the CloudWatch agent ships the host's logs to (FreeSWITCH's log, the boot's output). */
  public readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: MediaServerProps) {
    super(scope, id);
    markComponent(this, 'media-server');
    this.privateIp = props.privateIp;
    const logGroupName = `/voiceplane/media-server/${props.name}`;
    this.userData = renderMediaServerCloudInit({
      mediaServerId: props.mediaServerId,
      privateIp: props.privateIp,
      eslAllowedCidrs: [...props.eslAllowedCidrs, ...(props.eslSiteSourceCidrs ?? [])],
      sipAllowedCidrs: props.sipClusterCidrs,
      eslSecretName: props.eslSecretName,
      eslSecretRegion: props.eslSecretRegion,
      initialRoutes: props.initialRoutes,
      srtp: props.srtp,
      logGroupName,
    });
    if (Token.isUnresolved(this.userData)) {
      throw new Error('user data must not contain unresolved references: it is encoded at synth time');
    }

    const securityGroup = replaceableSecurityGroup(this, 'SecurityGroup', {
      namePrefix: `${props.name}-`,
      description: `Media server ${props.mediaServerId}: SIP from the SIP cluster, RTP from anywhere, ESL from the data center`,
      vpcId: props.vpcId,
    });
    this.securityGroupId = securityGroup.id;
    props.eslAllowedCidrs.forEach((cidr, index) => {
      new VpcSecurityGroupIngressRule(this, `EslFromDataCenter${index}`, {
        securityGroupId: securityGroup.id,
        description: 'Event socket from the call-control data center',
        ipProtocol: 'tcp',
        fromPort: ESL_INBOUND_PORT,
        toPort: ESL_INBOUND_PORT,
        cidrIpv4: cidr,
      });
    });
    (props.eslAllowedSecurityGroupIds ?? []).forEach((sourceGroupId, index) => {
      new VpcSecurityGroupIngressRule(this, `EslFromSite${index}`, {
        securityGroupId: securityGroup.id,
        description: 'Event socket from site services',
        ipProtocol: 'tcp',
        fromPort: ESL_INBOUND_PORT,
        toPort: ESL_INBOUND_PORT,
        referencedSecurityGroupId: sourceGroupId,
      });
    });
    for (const protocol of ['udp', 'tcp']) {
      new VpcSecurityGroupIngressRule(this, `SipFromCluster-${protocol}`, {
        securityGroupId: securityGroup.id,
        description: 'SIP from the site SIP cluster',
        ipProtocol: protocol,
        fromPort: SIP_PORT,
        toPort: SIP_PORT,
        referencedSecurityGroupId: props.sipClusterSecurityGroupId,
      });
    }
    new VpcSecurityGroupIngressRule(this, 'RtpFromAnywhere', {
      securityGroupId: securityGroup.id,
      description: 'RTP media from carriers and endpoints',
      ipProtocol: 'udp',
      fromPort: RTP_PORTS.from,
      toPort: RTP_PORTS.to,
      cidrIpv4: '0.0.0.0/0',
    });
    new VpcSecurityGroupEgressRule(this, 'AllEgress', {
      securityGroupId: securityGroup.id,
      description: 'RTP, SIP, outbound ESL to call control, AWS APIs',
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
    });

    this.logGroup = new CloudwatchLogGroup(this, 'LogGroup', { name: logGroupName, retentionInDays: props.logRetentionDays ?? 30, kmsKeyId: props.kmsKeyArn });

    const role = new IamRole(this, 'Role', {
      namePrefix: `${props.name}-`.slice(0, 38),
      assumeRolePolicy: assumeRolePolicy('ec2.amazonaws.com'),
    });
    attachManagedPolicies(this, 'Role', role.name, [SSM_MANAGED_INSTANCE_POLICY_ARN]);
    this.roleArn = role.arn;
    new IamRolePolicy(this, 'EslSecretPolicy', {
      role: role.id,
      policy: policyDocument([
        { actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], resources: [props.eslSecretArn] },
        ...kmsKeyStatements(props.eslSecretKmsKeyArn, ['secretsmanager']),
      ]),
    });
    new IamRolePolicy(this, 'LogShippingPolicy', { role: role.id, policy: policyDocument([logShippingStatement([this.logGroup.arn])]) });

    const launchTemplate = instanceLaunchTemplate(this, {
      namePrefix: `${props.name}-`,
      profileNamePrefix: `${props.name}-`.slice(0, 38),
      roleName: role.name,
      amiParameterName: props.amiParameterName ?? '/voiceplane/freeswitch/ami-id',
      instanceType: props.instanceType ?? 'c6i.xlarge',
      rootVolumeGiB: 30,
      userData: this.userData,
      userDataOwner: `media server ${props.mediaServerId}`,
      detailedMonitoring: true,
    });
    this.launchTemplateId = launchTemplate.id;

    const instance = new Instance(this, 'Instance', {
      launchTemplate: { id: launchTemplate.id, version: '$Default' },
      subnetId: props.subnetId,
      privateIp: props.privateIp,
      vpcSecurityGroupIds: [securityGroup.id],
      disableApiTermination: true,
      tags: { Name: props.name },
      // A new launch template version must not replace a media server carrying calls; roll it out deliberately.
      lifecycle: { ignoreChanges: ['launch_template'] },
    });
    this.instanceId = instance.id;

    const address = new Eip(this, 'PublicAddress', { domain: 'vpc', instance: instance.id, tags: { Name: props.name } });
    this.publicIp = address.publicIp;
  }
}

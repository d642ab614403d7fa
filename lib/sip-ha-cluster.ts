import { Construct } from 'constructs';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { LbTargetGroupAttachment } from '@cdktf/provider-aws/lib/lb-target-group-attachment';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { markComponent } from './component';
import { SSM_MANAGED_INSTANCE_POLICY_ARN, assumeRolePolicy, attachManagedPolicies } from './iam-policy';
import { SIP_PORT } from './ports';

/** Kamailio's `kamcmd` control socket, reachable only from inside the site VPC. */
export const KAMAILIO_RPC_PORT = 2049;

export interface SipHaClusterProps {
  /** Load balancer and resource name prefix (at most 28 characters). */
  readonly name: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  /** Public subnets of the load balancer, one per availability zone. */
  readonly publicSubnetIds: string[];
  /** Private subnets of the Kamailio nodes, spread round-robin. */
  readonly privateSubnetIds: string[];
  /** Number of Kamailio nodes. */
  readonly size: number;
  /** Private addresses of the site's media servers, in dispatch order. */
  readonly mediaServerIps: readonly string[];
  /** Sources allowed to send SIP. */
  readonly allowedSourceCidrs: readonly string[];
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
}

/** Kamailio dispatcher list: set 1 holds the media servers, probed with OPTIONS (flag 8). */
export function renderDispatcherList(mediaServerIps: readonly string[]): string {
  return mediaServerIps.map((ip) => `1 sip:${ip}:${SIP_PORT} 8 0`).join('\n') + '\n';
}

/**
 * The site's SIP high-availability cluster: Kamailio nodes in private subnets behind an
 * internet-facing network load balancer on UDP and TCP 5060, dispatching to the site's media servers.
 */
export class SipHaCluster extends Construct {
  public readonly loadBalancerArn: string;
  public readonly loadBalancerDnsName: string;
  public readonly securityGroupId: string;
  public readonly instanceIds: string[];
  /** Private addresses of the nodes; their RPC socket listens there on {@link KAMAILIO_RPC_PORT}. */
  public readonly nodePrivateIps: string[];
  public readonly dispatcherList: string;

  constructor(scope: Construct, id: string, props: SipHaClusterProps) {
    super(scope, id);
    markComponent(this, 'sip-cluster');
    if (!Number.isInteger(props.size) || props.size < 1) {
      throw new Error(`size must be a positive integer, got ${props.size}`);
    }
    if (props.mediaServerIps.length === 0) {
      throw new Error('mediaServerIps must list at least one media server to dispatch to');
    }
    if (props.name.length > 28) {
      throw new Error(`name must be at most 28 characters, got "${props.name}"`);
    }
    this.dispatcherList = renderDispatcherList(props.mediaServerIps);

    const securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      namePrefix: `${props.name}-sip-`,
      description: 'SIP cluster: SIP from carriers, RPC from the site',
      vpcId: props.vpcId,
      revokeRulesOnDelete: true,
      lifecycle: { createBeforeDestroy: true },
    });
    this.securityGroupId = securityGroup.id;
    for (const protocol of ['udp', 'tcp']) {
      props.allowedSourceCidrs.forEach((cidr, index) => {
        new VpcSecurityGroupIngressRule(this, `Sip-${protocol}-${index}`, {
          securityGroupId: securityGroup.id,
          description: 'SIP signalling',
          ipProtocol: protocol,
          fromPort: SIP_PORT,
          toPort: SIP_PORT,
          cidrIpv4: cidr,
        });
      });
    }
    new VpcSecurityGroupIngressRule(this, 'RpcFromVpc', {
      securityGroupId: securityGroup.id,
      description: 'kamcmd RPC from inside the site',
      ipProtocol: 'tcp',
      fromPort: KAMAILIO_RPC_PORT,
      toPort: KAMAILIO_RPC_PORT,
      cidrIpv4: props.vpcCidr,
    });
    new VpcSecurityGroupIngressRule(this, 'SipHealthFromVpc', {
      securityGroupId: securityGroup.id,
      description: 'Load balancer health checks',
      ipProtocol: 'tcp',
      fromPort: SIP_PORT,
      toPort: SIP_PORT,
      cidrIpv4: props.vpcCidr,
    });
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
    const instanceProfile = new IamInstanceProfile(this, 'InstanceProfile', { namePrefix: `${props.name}-sip-`.slice(0, 38), role: role.name });
    const userData = [
      '#cloud-config',
      'packages: [kamailio, kamailio-extra-modules]',
      'write_files:',
      '  - path: /etc/kamailio/dispatcher.list',
      "    permissions: '0644'",
      '    content: |',
      ...this.dispatcherList.trimEnd().split('\n').map((line) => `      ${line}`),
      'runcmd:',
      '  - [systemctl, enable, --now, kamailio]',
      '',
    ].join('\n');
    const launchTemplate = new LaunchTemplate(this, 'LaunchTemplate', {
      namePrefix: `${props.name}-sip-`,
      imageId: `resolve:ssm:${props.amiParameterName ?? '/aws/service/debian/release/12/latest/amd64'}`,
      instanceType: props.instanceType ?? 'c6i.large',
      iamInstanceProfile: { arn: instanceProfile.arn },
      vpcSecurityGroupIds: [securityGroup.id],
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled' },
      blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 16, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } }],
      userData: Buffer.from(userData).toString('base64'),
      updateDefaultVersion: true,
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
      port: SIP_PORT,
      vpcId: props.vpcId,
      preserveClientIp: 'true',
      healthCheck: { protocol: 'TCP', port: String(SIP_PORT), interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
      lifecycle: { createBeforeDestroy: true },
    });
    new LbListener(this, 'SipListener', {
      loadBalancerArn: loadBalancer.arn,
      protocol: 'TCP_UDP',
      port: SIP_PORT,
      defaultAction: [{ type: 'forward', targetGroupArn: targetGroup.arn }],
    });

    const instances = Array.from({ length: props.size }, (_, index) => {
      const instance = new Instance(this, `Node${index}`, {
        launchTemplate: { id: launchTemplate.id, version: '$Default' },
        subnetId: props.privateSubnetIds[index % props.privateSubnetIds.length],
        tags: { Name: `${props.name}-sip-${index}` },
        lifecycle: { ignoreChanges: ['launch_template'] },
      });
      new LbTargetGroupAttachment(this, `Node${index}Target`, { targetGroupArn: targetGroup.arn, targetId: instance.id, port: SIP_PORT });
      return instance;
    });
    this.instanceIds = instances.map((instance) => instance.id);
    this.nodePrivateIps = instances.map((instance) => instance.privateIp);
  }
}

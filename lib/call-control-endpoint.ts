import { Construct } from 'constructs';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { replaceableSecurityGroup } from './replaceable-security-group';
import { markComponent } from './component';
import { CALL_CONTROL_ESL_PORT, CALL_CONTROL_HEALTH_PORT, callControlListenerPort } from './ports';

export interface CallControlEndpointProps {
  /** Load balancer name (at most 32 characters). */
  readonly name: string;
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** The only address allowed to connect: the media server's private IP. */
  readonly mediaServerIp: string;
  /** Number of call-control groups (one listener port each). */
  readonly groupCount: number;
  /** Security group of the call-control tasks behind this endpoint. */
  readonly taskSecurityGroupId: string;
  /** Private hosted zone and the name to register in it, e.g. `ms-1.west`. */
  readonly zoneId: string;
  readonly recordName: string;
}

/**
 * The stable address a media server's dialplan references for its call-control groups: an
 * internal network load balancer, named in the data center's private DNS zone, with one port
 * per group, reachable only from that media server.
 */
export class CallControlEndpoint extends Construct {
  public readonly loadBalancerArn: string;
  /** The load balancer's `arn_suffix`, its dimension in AWS/NetworkELB metrics. */
  public readonly loadBalancerArnSuffix: string;
  public readonly securityGroupId: string;
  /** DNS name the dialplan uses: `<recordName>.<zone>`. */
  public readonly fqdn: string;

  constructor(scope: Construct, id: string, props: CallControlEndpointProps) {
    super(scope, id);
    markComponent(this, 'call-control');
    if (props.name.length > 32) {
      throw new Error(`name must be at most 32 characters (a load balancer name), got "${props.name}"`);
    }
    const securityGroup = replaceableSecurityGroup(this, 'SecurityGroup', {
      namePrefix: `${props.name}-`,
      description: `Call-control endpoint of ${props.recordName}: outbound ESL from its media server only`,
      vpcId: props.vpcId,
    });
    this.securityGroupId = securityGroup.id;
    for (let groupIndex = 0; groupIndex < props.groupCount; groupIndex++) {
      const port = callControlListenerPort(groupIndex);
      new VpcSecurityGroupIngressRule(this, `FromMediaServer${port}`, {
        securityGroupId: securityGroup.id,
        description: 'Outbound ESL from the media server',
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        cidrIpv4: `${props.mediaServerIp}/32`,
      });
    }
    for (const port of [CALL_CONTROL_ESL_PORT, CALL_CONTROL_HEALTH_PORT]) {
      new VpcSecurityGroupEgressRule(this, `ToTasks${port}`, {
        securityGroupId: securityGroup.id,
        description: port === CALL_CONTROL_ESL_PORT ? 'Forward ESL to call-control tasks' : 'Health checks of call-control tasks',
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: props.taskSecurityGroupId,
      });
      new VpcSecurityGroupIngressRule(this, `TaskFromEndpoint${port}`, {
        securityGroupId: props.taskSecurityGroupId,
        description: `From the load balancer of ${props.recordName}`,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: securityGroup.id,
      });
    }

    const loadBalancer = new Lb(this, 'LoadBalancer', {
      name: props.name,
      internal: true,
      loadBalancerType: 'network',
      subnets: props.subnetIds,
      securityGroups: [securityGroup.id],
      enableCrossZoneLoadBalancing: true,
      enableDeletionProtection: true,
    });
    this.loadBalancerArn = loadBalancer.arn;
    this.loadBalancerArnSuffix = loadBalancer.arnSuffix;

    const record = new Route53Record(this, 'DnsName', {
      zoneId: props.zoneId,
      name: props.recordName,
      type: 'A',
      alias: { name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: false },
    });
    this.fqdn = record.fqdn;
  }
}

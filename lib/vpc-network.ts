import { Construct } from 'constructs';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { planSubnets, SubnetPlan } from '../runtime/net/network-plan';
import { assumeRolePolicy, policyDocument } from './iam-policy';

export interface VpcNetworkProps {
  /** Name prefix of every resource (e.g. `acme-site-west`). */
  readonly name: string;
  /** IPv4 range of the VPC; must be /16 to /22. */
  readonly cidrBlock: string;
  /** Availability zones to spread the subnets over (one private and one public subnet each). */
  readonly availabilityZones: readonly string[];
  /**
   * NAT gateways for the private subnets; one per zone survives a zone outage, one saves cost.
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * Days to keep the VPC flow logs (accepted and rejected traffic).
   * @default 365
   */
  readonly flowLogRetentionDays?: number;
  /**
   * Customer-managed KMS key (ARN, in the VPC's region) encrypting the flow logs; its key policy must let
   * CloudWatch Logs of the region use it.
   * @default CloudWatch Logs' own encryption
   */
  readonly kmsKeyArn?: string;
}

/**
 * A VPC with one public and one private subnet per availability zone, an internet gateway, NAT for
 * the private subnets and flow logs of all its traffic, accepted and rejected (an investigation needs
 * what got through, not only what was refused). Addresses follow {@link planSubnets}.
 */
export class VpcNetwork extends Construct {
  public readonly vpcId: string;
  public readonly cidrBlock: string;
  public readonly subnetPlan: readonly SubnetPlan[];
  public readonly publicSubnetIds: string[];
  public readonly privateSubnetIds: string[];
  public readonly publicRouteTableId: string;
  /** One per availability zone, in zone order. */
  public readonly privateRouteTableIds: string[];

  constructor(scope: Construct, id: string, props: VpcNetworkProps) {
    super(scope, id);
    const natGateways = props.natGateways ?? 1;
    if (!Number.isInteger(natGateways) || natGateways < 1 || natGateways > props.availabilityZones.length) {
      throw new Error(`natGateways must be between 1 and the number of availability zones (${props.availabilityZones.length}), got ${natGateways}`);
    }
    this.cidrBlock = props.cidrBlock;
    this.subnetPlan = planSubnets(props.cidrBlock, props.availabilityZones);

    const vpc = new Vpc(this, 'Vpc', {
      cidrBlock: props.cidrBlock,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: props.name },
    });
    this.vpcId = vpc.id;

    const internetGateway = new InternetGateway(this, 'InternetGateway', { vpcId: vpc.id, tags: { Name: props.name } });
    const publicRouteTable = new RouteTable(this, 'PublicRouteTable', { vpcId: vpc.id, tags: { Name: `${props.name}-public` } });
    new Route(this, 'PublicDefaultRoute', { routeTableId: publicRouteTable.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: internetGateway.id });
    this.publicRouteTableId = publicRouteTable.id;

    const publicSubnets = this.subnetPlan.map((plan, index) => {
      const subnet = new Subnet(this, `PublicSubnet${index}`, {
        vpcId: vpc.id,
        cidrBlock: plan.publicCidr,
        availabilityZone: plan.availabilityZone,
        mapPublicIpOnLaunch: false,
        tags: { Name: `${props.name}-public-${plan.availabilityZone}`, Tier: 'public' },
      });
      new RouteTableAssociation(this, `PublicSubnetRoutes${index}`, { subnetId: subnet.id, routeTableId: publicRouteTable.id });
      return subnet;
    });
    this.publicSubnetIds = publicSubnets.map((subnet) => subnet.id);

    const natGatewayIds = publicSubnets.slice(0, natGateways).map((subnet, index) => {
      const address = new Eip(this, `NatAddress${index}`, { domain: 'vpc', tags: { Name: `${props.name}-nat-${index}` } });
      return new NatGateway(this, `NatGateway${index}`, {
        allocationId: address.id,
        subnetId: subnet.id,
        tags: { Name: `${props.name}-nat-${index}` },
        dependsOn: [internetGateway],
      }).id;
    });

    const privateRouteTables = this.subnetPlan.map((plan, index) => {
      const routeTable = new RouteTable(this, `PrivateRouteTable${index}`, { vpcId: vpc.id, tags: { Name: `${props.name}-private-${plan.availabilityZone}` } });
      new Route(this, `PrivateDefaultRoute${index}`, {
        routeTableId: routeTable.id,
        destinationCidrBlock: '0.0.0.0/0',
        natGatewayId: natGatewayIds[index % natGatewayIds.length],
      });
      const subnet = new Subnet(this, `PrivateSubnet${index}`, {
        vpcId: vpc.id,
        cidrBlock: plan.privateCidr,
        availabilityZone: plan.availabilityZone,
        tags: { Name: `${props.name}-private-${plan.availabilityZone}`, Tier: 'private' },
      });
      new RouteTableAssociation(this, `PrivateSubnetRoutes${index}`, { subnetId: subnet.id, routeTableId: routeTable.id });
      return { routeTable, subnet };
    });
    this.privateSubnetIds = privateRouteTables.map(({ subnet }) => subnet.id);
    this.privateRouteTableIds = privateRouteTables.map(({ routeTable }) => routeTable.id);

    const flowLogGroup = new CloudwatchLogGroup(this, 'FlowLogGroup', {
      name: `/voiceplane/${props.name}/vpc-flow-logs`,
      retentionInDays: props.flowLogRetentionDays ?? 365,
      kmsKeyId: props.kmsKeyArn,
    });
    const flowLogRole = new IamRole(this, 'FlowLogRole', {
      namePrefix: `${props.name}-flow-logs-`.slice(0, 38),
      assumeRolePolicy: assumeRolePolicy('vpc-flow-logs.amazonaws.com'),
    });
    new IamRolePolicy(this, 'FlowLogPolicy', {
      role: flowLogRole.id,
      policy: policyDocument([
        { actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], resources: [flowLogGroup.arn, `${flowLogGroup.arn}:*`] },
      ]),
    });
    new FlowLog(this, 'TrafficFlowLog', {
      vpcId: vpc.id,
      trafficType: 'ALL',
      logDestination: flowLogGroup.arn,
      iamRoleArn: flowLogRole.arn,
    });
  }
}

import { Construct } from 'constructs';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Route53Zone } from '@cdktf/provider-aws/lib/route53-zone';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { replaceableSecurityGroup } from './replaceable-security-group';
import { CallControlEndpoint } from './call-control-endpoint';
import { CallControlGroup } from './call-control-group';
import { markComponent } from './component';
import { DataCenterMonitoring, MonitoredCallControlGroup } from './data-center-monitoring';
import { DurableTable } from './durable-table';
import { assumeRolePolicy, policyDocument } from './iam-policy';
import { validateKmsKeyArn } from './customer-managed-key';
import { validateSnsTopicArn } from './alarm-topic';
import { imagePullStatements } from './image-pull-policy';
import { allowedImageRepositories, imageRepositoryRefusal } from '../runtime/contracts/image-allow-list';
import { callControlRecordName, callControlServiceName, callControlZoneName, eslPasswordSecretName, shortName } from './naming';
import { CALL_CONTROL_ESL_PORT, CALL_CONTROL_HEALTH_PORT, callControlListenerPort } from './ports';
import { CallControlGroupSpec } from './topology';
import { fleetInventoryDocument } from './fleet-inventory-document';
import { UpgradeOrchestrator } from './upgrade-orchestrator';
import { VpcNetwork } from './vpc-network';

/** A media server whose call-control groups this data center runs. */
export interface ServedMediaServer {
  readonly siteId: string;
  readonly mediaServerId: string;
  /** Region of the media server's site; must differ from the data center's. */
  readonly siteRegion: string;
  /** Fixed private address of the media server (the only source admitted to its endpoint). */
  readonly privateIp: string;
  readonly groups: readonly CallControlGroupSpec[];
}

export interface CentralDataCenterProps {
  /** Platform name (resource names, DNS zone). */
  readonly platform: string;
  /** Data center id, unique in the platform. */
  readonly dataCenterId: string;
  readonly region: string;
  readonly cidrBlock: string;
  readonly availabilityZones: readonly string[];
  /** Media servers served, in topology order. */
  readonly mediaServers: readonly ServedMediaServer[];
  /** Subnets holding the media servers, per site served: the orchestrator's ESL reach. */
  readonly mediaServerCidrs: readonly string[];
  /**
   * NAT gateways of the VPC.
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * The only image repositories the upgrade orchestrator may deploy and the call-control tasks may pull from
   * private ECR (the topology's `allowedImageRepositories`); every group's image must be one of them.
   * @default the repositories of the served groups
   */
  readonly allowedImageRepositories?: readonly string[];
  /**
   * Customer-managed KMS key (ARN, in `region`) for the tables, log groups and secrets of the data center; the roles
   * that use them may decrypt and generate data keys with it, through DynamoDB and Secrets Manager only.
   * @default AWS-managed keys
   */
  readonly kmsKeyArn?: string;
  /**
   * An SNS topic of `region` the data center's alarms notify (the topology's `alarms.snsTopicArn`).
   * @default a topic created for them, encrypted with `kmsKeyArn` when given
   */
  readonly alarmTopicArn?: string;
}

/**
 * A central data center in a region other than the sites it serves: call-control groups (one ECS
 * service per media server and group, behind a per-media-server endpoint), the ESL password
 * secrets of the sites, the CDR archive table and the upgrade orchestrator infrastructure.
 */
export class CentralDataCenter extends Construct {
  public readonly network: VpcNetwork;
  public readonly clusterArn: string;
  public readonly clusterName: string;
  public readonly privateZoneId: string;
  public readonly archiveTableName: string;
  public readonly archiveTableArn: string;
  /** ESL password secret ARN per site id. */
  public readonly eslSecretArns: Record<string, string>;
  public readonly callControlGroups: CallControlGroup[] = [];
  public readonly callControlEndpoints: CallControlEndpoint[] = [];
  public readonly orchestrator: UpgradeOrchestrator;
  /** Dashboard, alarms and their topic. */
  public readonly monitoring: DataCenterMonitoring;

  constructor(scope: Construct, id: string, props: CentralDataCenterProps) {
    super(scope, id);
    markComponent(this, 'data-center');
    const crossRegion = props.mediaServers.filter((server) => server.siteRegion === props.region);
    if (crossRegion.length > 0) {
      const names = crossRegion.map((server) => `${server.siteId}/${server.mediaServerId}`).join(', ');
      throw new Error(`mediaServers must be in another region than the data center (${props.region}): ${names} share it`);
    }
    const name = `${props.platform}-dc-${props.dataCenterId}`;
    validateKmsKeyArn(props.kmsKeyArn, props.region, 'kmsKeyArn');
    validateSnsTopicArn(props.alarmTopicArn, props.region, 'alarmTopicArn');
    const allowedImages = allowedImageRepositories(props.allowedImageRepositories, props.mediaServers.flatMap((server) => server.groups.map((group) => group.image)));
    props.mediaServers.forEach((server) =>
      server.groups.forEach((group) => {
        const refusal = imageRepositoryRefusal(group.image, allowedImages);
        if (refusal !== undefined) throw new Error(`allowedImageRepositories must include the image of group ${group.id} of ${server.siteId}/${server.mediaServerId}: ${refusal}`);
      }),
    );

    this.network = new VpcNetwork(this, 'Network', {
      name,
      cidrBlock: props.cidrBlock,
      availabilityZones: props.availabilityZones,
      natGateways: props.natGateways,
      kmsKeyArn: props.kmsKeyArn,
    });

    const cluster = new EcsCluster(this, 'Cluster', {
      name,
      setting: [{ name: 'containerInsights', value: 'enabled' }],
    });
    this.clusterArn = cluster.arn;
    this.clusterName = cluster.name;

    const zone = new Route53Zone(this, 'CallControlZone', {
      name: callControlZoneName(props.platform),
      comment: 'Call-control endpoints referenced by media server dialplans',
      vpc: [{ vpcId: this.network.vpcId }],
      // Site VPCs are associated from the site stacks.
      lifecycle: { ignoreChanges: ['vpc'] },
    });
    this.privateZoneId = zone.zoneId;

    const siteIds = [...new Set(props.mediaServers.map((server) => server.siteId))];
    this.eslSecretArns = Object.fromEntries(
      siteIds.map((siteId) => {
        // No secret value here: the first media server to boot generates it, so it never enters Terraform state.
        const secret = new SecretsmanagerSecret(this, `EslPassword-${siteId}`, {
          name: eslPasswordSecretName(props.platform, siteId),
          description: `FreeSWITCH event socket password of the media servers of site ${siteId}`,
          recoveryWindowInDays: 7,
          kmsKeyId: props.kmsKeyArn,
        });
        return [siteId, secret.arn];
      }),
    );

    const archive = new DurableTable(this, 'CdrArchive', { tableName: `${name}-cdr-archive`, kmsKeyArn: props.kmsKeyArn });
    this.archiveTableName = archive.tableName;
    this.archiveTableArn = archive.tableArn;

    const executionRole = new IamRole(this, 'TaskExecutionRole', {
      namePrefix: `${name}-exec-`.slice(0, 38),
      assumeRolePolicy: assumeRolePolicy('ecs-tasks.amazonaws.com'),
    });
    // Call control needs no AWS API: its task role holds no permissions.
    const callControlTaskRole = new IamRole(this, 'CallControlTaskRole', {
      namePrefix: `${name}-cc-task-`.slice(0, 38),
      assumeRolePolicy: assumeRolePolicy('ecs-tasks.amazonaws.com'),
    });

    const taskSecurityGroup = replaceableSecurityGroup(this, 'CallControlTaskSecurityGroup', {
      namePrefix: `${name}-cc-tasks-`,
      description: 'Call-control tasks: from their endpoints and the orchestrator only',
      vpcId: this.network.vpcId,
    });
    new VpcSecurityGroupEgressRule(this, 'CallControlTasksHttps', {
      securityGroupId: taskSecurityGroup.id,
      description: 'Image pulls and logs',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
    });

    const monitoredGroups: MonitoredCallControlGroup[] = [];
    props.mediaServers.forEach((server) => {
      const scopeId = `${server.siteId}-${server.mediaServerId}`;
      const endpoint = new CallControlEndpoint(this, `Endpoint-${scopeId}`, {
        name: shortName([props.platform, server.siteId, server.mediaServerId], 32),
        vpcId: this.network.vpcId,
        subnetIds: this.network.privateSubnetIds,
        mediaServerIp: server.privateIp,
        groupCount: server.groups.length,
        taskSecurityGroupId: taskSecurityGroup.id,
        zoneId: zone.zoneId,
        recordName: callControlRecordName(server.siteId, server.mediaServerId),
      });
      this.callControlEndpoints.push(endpoint);
      server.groups.forEach((group, groupIndex) => {
        const callControlGroup = new CallControlGroup(this, `Group-${scopeId}-${group.id}`, {
          name: callControlServiceName(props.platform, server.siteId, server.mediaServerId, group.id),
          groupId: group.id,
          mediaServer: `${server.siteId}/${server.mediaServerId}`,
          region: props.region,
          clusterArn: cluster.arn,
          vpcId: this.network.vpcId,
          subnetIds: this.network.privateSubnetIds,
          taskSecurityGroupId: taskSecurityGroup.id,
          loadBalancerArn: endpoint.loadBalancerArn,
          listenerPort: callControlListenerPort(groupIndex),
          image: group.image,
          version: group.version,
          instances: group.instances,
          executionRoleArn: executionRole.arn,
          taskRoleArn: callControlTaskRole.arn,
          kmsKeyArn: props.kmsKeyArn,
        });
        this.callControlGroups.push(callControlGroup);
        monitoredGroups.push({
          key: `${scopeId}-${group.id}`,
          groupId: group.id,
          mediaServer: callControlGroup.mediaServer,
          instances: group.instances,
          clusterName: cluster.name,
          serviceName: callControlGroup.serviceName,
          targetGroupArnSuffix: callControlGroup.targetGroupArnSuffix,
          loadBalancerArnSuffix: endpoint.loadBalancerArnSuffix,
        });
      });
    });
    this.monitoring = new DataCenterMonitoring(this, 'Monitoring', { name, region: props.region, topicArn: props.alarmTopicArn, kmsKeyArn: props.kmsKeyArn, groups: monitoredGroups });
    // Not the AWS managed execution policy, which pulls from any ECR repository: only the allowed ones, and logs of its groups.
    if (this.callControlGroups.length > 0) {
      new IamRolePolicy(this, 'TaskExecutionPolicy', {
        role: executionRole.id,
        policy: policyDocument([
          ...imagePullStatements(allowedImages),
          { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: this.callControlGroups.map((group) => `${group.logGroupArn}:*`) },
        ]),
      });
    }

    this.orchestrator = new UpgradeOrchestrator(this, 'UpgradeOrchestrator', {
      name,
      vpcId: this.network.vpcId,
      subnetIds: this.network.privateSubnetIds,
      fleetInventory: fleetInventoryDocument({
        region: props.region,
        cluster: name,
        allowedImageRepositories: allowedImages,
        mediaServers: props.mediaServers.map((server) => ({
          ...server,
          eslSecretId: eslPasswordSecretName(props.platform, server.siteId),
          groups: server.groups.map((group) => ({ id: group.id, service: callControlServiceName(props.platform, server.siteId, server.mediaServerId, group.id) })),
        })),
      }),
      mediaServerCidrs: props.mediaServerCidrs,
      serviceArns: this.callControlGroups.map((group) => group.serviceArn),
      passRoleArns: [executionRole.arn, callControlTaskRole.arn],
      eslSecretArns: Object.values(this.eslSecretArns),
      kmsKeyArn: props.kmsKeyArn,
    });
    // The orchestrator verifies every task itself (health and an outbound ESL connection) before it restores a route.
    for (const port of [CALL_CONTROL_ESL_PORT, CALL_CONTROL_HEALTH_PORT]) {
      new VpcSecurityGroupIngressRule(this, `CallControlTasksFromOrchestrator${port}`, {
        securityGroupId: taskSecurityGroup.id,
        description: 'Upgrade verification by the orchestrator',
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: this.orchestrator.securityGroupId,
      });
      new VpcSecurityGroupEgressRule(this, `OrchestratorToCallControl${port}`, {
        securityGroupId: this.orchestrator.securityGroupId,
        description: 'Upgrade verification of call-control tasks',
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: taskSecurityGroup.id,
      });
    }
  }
}

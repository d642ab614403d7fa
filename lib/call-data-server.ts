import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { markComponent } from './component';
import { DurableTable } from './durable-table';
import { ECS_TASK_EXECUTION_POLICY_ARN, assumeRolePolicy, attachManagedPolicies, policyDocument } from './iam-policy';
import { CDS_PORT } from './ports';

export interface CallDataServerProps {
  /** Resource name prefix, e.g. `acme-site-west`. */
  readonly name: string;
  readonly siteId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly subnetIds: string[];
  /** Image of the voiceplane runtime, with tag. */
  readonly runtimeImage: string;
  /** The data center's CDR archive table, written once per ended call. */
  readonly archiveTableName: string;
  readonly archiveTableArn: string;
  /**
   * Days to keep logs.
   * @default 30
   */
  readonly logRetentionDays?: number;
}

/**
 * The site's Call Data Server: its DynamoDB table (TTL on `expiresAt`, PITR), and one ECS
 * Fargate task running `voiceplane cds serve`, whose role reaches only its table and the archive.
 */
export class CallDataServer extends Construct {
  public readonly tableName: string;
  public readonly tableArn: string;
  public readonly securityGroupId: string;
  public readonly clusterArn: string;
  public readonly serviceArn: string;
  public readonly taskRoleArn: string;

  constructor(scope: Construct, id: string, props: CallDataServerProps) {
    super(scope, id);
    markComponent(this, 'call-data-server');
    const table = new DurableTable(this, 'Table', { tableName: `${props.name}-cds`, ttlAttribute: 'expiresAt' });
    this.tableName = table.tableName;
    this.tableArn = table.tableArn;

    const securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      namePrefix: `${props.name}-cds-`,
      description: `Call Data Server of site ${props.siteId}`,
      vpcId: props.vpcId,
      revokeRulesOnDelete: true,
      lifecycle: { createBeforeDestroy: true },
    });
    this.securityGroupId = securityGroup.id;
    new VpcSecurityGroupIngressRule(this, 'ApiFromSite', {
      securityGroupId: securityGroup.id,
      description: 'CDS API from site clients',
      ipProtocol: 'tcp',
      fromPort: CDS_PORT,
      toPort: CDS_PORT,
      cidrIpv4: props.vpcCidr,
    });
    new VpcSecurityGroupEgressRule(this, 'AllEgress', {
      securityGroupId: securityGroup.id,
      description: 'Peers, media server event sockets, AWS APIs',
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
    });

    const cluster = new EcsCluster(this, 'Cluster', { name: `${props.name}-cds`, setting: [{ name: 'containerInsights', value: 'enabled' }] });
    this.clusterArn = cluster.arn;
    const logGroup = new CloudwatchLogGroup(this, 'LogGroup', { name: `/voiceplane/cds/${props.name}`, retentionInDays: props.logRetentionDays ?? 30 });

    const executionRole = new IamRole(this, 'ExecutionRole', {
      namePrefix: `${props.name}-cds-exec-`.slice(0, 38),
      assumeRolePolicy: assumeRolePolicy('ecs-tasks.amazonaws.com'),
    });
    attachManagedPolicies(this, 'ExecutionRole', executionRole.name, [ECS_TASK_EXECUTION_POLICY_ARN]);
    const taskRole = new IamRole(this, 'TaskRole', {
      namePrefix: `${props.name}-cds-task-`.slice(0, 38),
      assumeRolePolicy: assumeRolePolicy('ecs-tasks.amazonaws.com'),
    });
    this.taskRoleArn = taskRole.arn;
    new IamRolePolicy(this, 'TaskPolicy', {
      role: taskRole.id,
      policy: policyDocument([
        { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:DescribeTable'], resources: [table.tableArn] },
        { actions: ['dynamodb:PutItem', 'dynamodb:GetItem'], resources: [props.archiveTableArn] },
      ]),
    });

    const taskDefinition = new EcsTaskDefinition(this, 'TaskDefinition', {
      family: `${props.name}-cds`,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '512',
      memory: '1024',
      executionRoleArn: executionRole.arn,
      taskRoleArn: taskRole.arn,
      containerDefinitions: JSON.stringify([
        {
          name: 'cds',
          image: props.runtimeImage,
          essential: true,
          command: ['cds', 'serve', '--site', props.siteId, '--listen', `0.0.0.0:${CDS_PORT}`, '--table', table.tableName, '--archive-table', props.archiveTableName],
          portMappings: [{ containerPort: CDS_PORT, protocol: 'tcp' }],
          environment: [{ name: 'AWS_REGION', value: props.region }],
          logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': logGroup.name, 'awslogs-region': props.region, 'awslogs-stream-prefix': 'cds' } },
        },
      ]),
    });
    const service = new EcsService(this, 'Service', {
      name: `${props.name}-cds`,
      cluster: cluster.arn,
      taskDefinition: taskDefinition.arn,
      desiredCount: 1,
      launchType: 'FARGATE',
      // One node per site owns the site's calls: never run two at once.
      deploymentMinimumHealthyPercent: 0,
      deploymentMaximumPercent: 100,
      networkConfiguration: { subnets: props.subnetIds, securityGroups: [securityGroup.id], assignPublicIp: false },
      propagateTags: 'SERVICE',
    });
    this.serviceArn = service.id;
  }
}

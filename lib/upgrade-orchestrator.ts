import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { markComponent } from './component';
import { DurableTable } from './durable-table';
import { assumeRolePolicy, policyDocument } from './iam-policy';
import { ESL_INBOUND_PORT } from './ports';

export interface UpgradeOrchestratorProps {
  /** Resource name prefix (e.g. `acme-dc-east`). */
  readonly name: string;
  readonly vpcId: string;
  /** CIDR blocks of the media-server subnets it manages over ESL. */
  readonly mediaServerCidrs: readonly string[];
  /** ECS services it may update (one per call-control group). */
  readonly serviceArns: readonly string[];
  /** Roles the new task-definition revisions use, which it must pass to ECS. */
  readonly passRoleArns: readonly string[];
  /** ESL password secrets of the media servers it manages. */
  readonly eslSecretArns: readonly string[];
  /**
   * Days to keep orchestrator logs.
   * @default 90
   */
  readonly logRetentionDays?: number;
}

/**
 * What the blue-green call-control upgrade needs in a data center: its state and audit table,
 * an execution role holding only the actions the upgrade steps perform (scoped to the listed
 * services, roles, secrets and its own table and logs), a security group that may reach the
 * media servers' event socket, and a log group.
 */
export class UpgradeOrchestrator extends Construct {
  public readonly stateTableName: string;
  public readonly stateTableArn: string;
  public readonly roleArn: string;
  public readonly roleName: string;
  public readonly securityGroupId: string;
  public readonly logGroupName: string;
  public readonly logGroupArn: string;

  constructor(scope: Construct, id: string, props: UpgradeOrchestratorProps) {
    super(scope, id);
    markComponent(this, 'upgrade-orchestrator');
    const stateTable = new DurableTable(this, 'StateTable', { tableName: `${props.name}-upgrades`, ttlAttribute: 'expiresAt' });
    this.stateTableName = stateTable.tableName;
    this.stateTableArn = stateTable.tableArn;

    const logGroup = new CloudwatchLogGroup(this, 'LogGroup', {
      name: `/voiceplane/upgrade-orchestrator/${props.name}`,
      retentionInDays: props.logRetentionDays ?? 90,
    });
    this.logGroupName = logGroup.name;
    this.logGroupArn = logGroup.arn;

    const securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      namePrefix: `${props.name}-orchestrator-`,
      description: 'Upgrade orchestrator: ESL to media servers, HTTPS to AWS APIs',
      vpcId: props.vpcId,
      revokeRulesOnDelete: true,
      lifecycle: { createBeforeDestroy: true },
    });
    this.securityGroupId = securityGroup.id;
    props.mediaServerCidrs.forEach((cidr, index) => {
      new VpcSecurityGroupEgressRule(this, `EslToMediaServers${index}`, {
        securityGroupId: securityGroup.id,
        description: 'Inbound event socket of the media servers',
        ipProtocol: 'tcp',
        fromPort: ESL_INBOUND_PORT,
        toPort: ESL_INBOUND_PORT,
        cidrIpv4: cidr,
      });
    });
    new VpcSecurityGroupEgressRule(this, 'HttpsToAwsApis', {
      securityGroupId: securityGroup.id,
      description: 'AWS APIs (ECS, DynamoDB, Secrets Manager, CloudWatch Logs)',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
    });

    const role = new IamRole(this, 'Role', {
      namePrefix: `${props.name}-orchestrator-`.slice(0, 38),
      description: 'Blue-green call-control upgrade steps',
      assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com', 'states.amazonaws.com'),
    });
    this.roleArn = role.arn;
    this.roleName = role.name;
    new IamRolePolicy(this, 'Policy', {
      role: role.id,
      policy: policyDocument([
        { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'], resources: [stateTable.tableArn] },
        ...(props.serviceArns.length > 0 ? [{ actions: ['ecs:UpdateService', 'ecs:DescribeServices'], resources: props.serviceArns }] : []),
        // ECS has no resource-level permissions for task-definition registration and reads.
        { actions: ['ecs:RegisterTaskDefinition', 'ecs:DescribeTaskDefinition', 'ecs:ListTasks', 'ecs:DescribeTasks'], resources: ['*'] },
        ...(props.passRoleArns.length > 0
          ? [{ actions: ['iam:PassRole'], resources: props.passRoleArns, conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } }]
          : []),
        ...(props.eslSecretArns.length > 0 ? [{ actions: ['secretsmanager:GetSecretValue'], resources: props.eslSecretArns }] : []),
        { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.arn}:*`] },
        // Lambda functions in a VPC manage their own network interfaces; EC2 offers no resource scoping here.
        { actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'], resources: ['*'] },
      ]),
    });
  }
}

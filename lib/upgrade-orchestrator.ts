import { Fn, TerraformLocal, Token } from 'cdktf';
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { type EcsDeployment, parseFleetInventory } from '../runtime/upgrade/inventory/fleet-inventory';
import { TASK_STATE_NAMES, UpgradeTaskName, buildUpgradeStateMachine } from '../runtime/upgrade/flow/upgrade-state-machine';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { replaceableSecurityGroup } from './replaceable-security-group';
import { markComponent } from './component';
import { DurableTable } from './durable-table';
import { assumeRolePolicy, policyDocument, type PolicyStatement } from './iam-policy';
import { kmsKeyStatements } from './customer-managed-key';
import { LAMBDA_RUNTIME, LambdaBundle } from './lambda-bundle';
import { ESL_INBOUND_PORT } from './ports';
import { KAMAILIO_RPC_PORT } from './sip-ha-cluster';

/**
 * The Lambda module holding one exported handler per upgrade task: its TypeScript source in this repository, its
 * compiled JavaScript in the published package.
 */
export const UPGRADE_HANDLERS_ENTRY = require.resolve('../runtime/handlers/upgrade-steps');
/** File name of the fleet inventory inside the Lambda package (the handlers read it at cold start). */
export const FLEET_INVENTORY_FILE = 'fleet-inventory.json';

export interface UpgradeOrchestratorProps {
  /** Resource name prefix (e.g. `acme-dc-east`). */
  readonly name: string;
  readonly vpcId: string;
  /**
   * CIDR blocks of the site subnets it manages: their media servers over ESL, and the SIP cluster nodes
   * that share those subnets over Kamailio's RPC.
   */
  readonly mediaServerCidrs: readonly string[];
  /** ECS services it may update (one per call-control group). */
  readonly serviceArns: readonly string[];
  /** Roles the new task-definition revisions use, which it must pass to ECS. */
  readonly passRoleArns: readonly string[];
  /** ESL password secrets of the media servers it manages. */
  readonly eslSecretArns: readonly string[];
  /** Private subnets the step functions run in (they reach the media servers over the peering). */
  readonly subnetIds: string[];
  /** The media servers and groups this data center upgrades, shipped with the step functions. */
  readonly fleetInventory: unknown;
  /**
   * Seconds between two drain or deployment checks.
   * @default 10
   */
  readonly pollSeconds?: number;
  /**
   * Days to keep orchestrator logs.
   * @default 90
   */
  readonly logRetentionDays?: number;
  /**
   * Customer-managed KMS key (ARN, in the data center's region) of its state table and log group, and of the ESL
   * password secrets it reads: its role may decrypt and generate data keys with it through DynamoDB and Secrets Manager.
   * @default AWS-managed keys
   */
  readonly kmsKeyArn?: string;
}

/**
 * The blue-green call-control upgrade of a data center: one Lambda function per step (bundled from
 * `runtime/` at synth, with the fleet inventory), the Step Functions state machine that sequences
 * them (definition generated from the step contract), its state and audit table, a role for the
 * functions holding only the actions the steps perform (scoped to the listed services, roles,
 * secrets and its own table and logs), a role for the state machine that may only invoke those
 * functions, a security group that may reach the media servers' event socket, and a log group.
 */
export class UpgradeOrchestrator extends Construct {
  public readonly stateTableName: string;
  public readonly stateTableArn: string;
  public readonly roleArn: string;
  public readonly roleName: string;
  public readonly securityGroupId: string;
  public readonly logGroupName: string;
  public readonly logGroupArn: string;
  public readonly stateMachineArn: string;
  /** The fleet inventory shipped with the step functions. */
  public readonly fleetInventory: unknown;
  /** ARN of the function behind each task of the state machine. */
  public readonly functionArns: Readonly<Record<UpgradeTaskName, string>>;

  constructor(scope: Construct, id: string, props: UpgradeOrchestratorProps) {
    super(scope, id);
    markComponent(this, 'upgrade-orchestrator');
    const stateTable = new DurableTable(this, 'StateTable', { tableName: `${props.name}-upgrades`, ttlAttribute: 'expiresAt', kmsKeyArn: props.kmsKeyArn });
    this.stateTableName = stateTable.tableName;
    this.stateTableArn = stateTable.tableArn;

    const logGroup = new CloudwatchLogGroup(this, 'LogGroup', {
      name: `/voiceplane/upgrade-orchestrator/${props.name}`,
      retentionInDays: props.logRetentionDays ?? 90,
      kmsKeyId: props.kmsKeyArn,
    });
    this.logGroupName = logGroup.name;
    this.logGroupArn = logGroup.arn;

    const securityGroup = replaceableSecurityGroup(this, 'SecurityGroup', {
      namePrefix: `${props.name}-orchestrator-`,
      description: 'Upgrade orchestrator: ESL to media servers, HTTPS to AWS APIs',
      vpcId: props.vpcId,
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
    props.mediaServerCidrs.forEach((cidr, index) => {
      new VpcSecurityGroupEgressRule(this, `SipRpcToSipNodes${index}`, {
        securityGroupId: securityGroup.id,
        description: 'JSON-RPC of the SIP cluster nodes (drain and undrain media servers)',
        ipProtocol: 'tcp',
        fromPort: KAMAILIO_RPC_PORT,
        toPort: KAMAILIO_RPC_PORT,
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
      assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com'),
    });
    this.roleArn = role.arn;
    this.roleName = role.name;
    new IamRolePolicy(this, 'Policy', {
      role: role.id,
      policy: policyDocument([
        { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'], resources: [stateTable.tableArn] },
        ...ecsStatements(this, props.fleetInventory, props.serviceArns),
        ...(props.passRoleArns.length > 0
          ? [{ actions: ['iam:PassRole'], resources: props.passRoleArns, conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } }]
          : []),
        ...(props.eslSecretArns.length > 0 ? [{ actions: ['secretsmanager:GetSecretValue'], resources: props.eslSecretArns }] : []),
        ...kmsKeyStatements(props.kmsKeyArn, ['dynamodb']),
        ...(props.eslSecretArns.length > 0 ? kmsKeyStatements(props.kmsKeyArn, ['secretsmanager'], 'read') : []),
        { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.arn}:*`] },
        { actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] },
        // Lambda functions in a VPC manage their own network interfaces; EC2 offers no resource scoping here.
        { actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'], resources: ['*'] },
      ]),
    });

    this.fleetInventory = props.fleetInventory;
    const bundle = new LambdaBundle(this, 'StepFunctionsCode', {
      entry: UPGRADE_HANDLERS_ENTRY,
      files: { [FLEET_INVENTORY_FILE]: `${JSON.stringify(props.fleetInventory, null, 2)}\n` },
    });
    const functions = (Object.keys(TASK_STATE_NAMES) as UpgradeTaskName[]).map((task) => {
      const fn = new LambdaFunction(this, `Step-${task}`, {
        functionName: `${props.name}-upgrade-${task}`.slice(0, 64),
        description: `voiceplane call-control upgrade: ${task}`,
        filename: bundle.path,
        sourceCodeHash: bundle.assetHash,
        handler: `index.${task}`,
        runtime: LAMBDA_RUNTIME,
        role: role.arn,
        // Rollback redeploys the previous version and waits for it inside one (resumable) invocation.
        timeout: task === 'rollback' ? 900 : 60,
        memorySize: 512,
        environment: { variables: { STATE_TABLE: stateTable.tableName, FLEET_INVENTORY_FILE, NODE_OPTIONS: '--enable-source-maps' } },
        vpcConfig: { subnetIds: props.subnetIds, securityGroupIds: [securityGroup.id] },
        loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
        tracingConfig: { mode: 'Active' },
      });
      return [task, fn.arn] as const;
    });
    this.functionArns = Object.fromEntries(functions) as Record<UpgradeTaskName, string>;

    const stateMachineRole = new IamRole(this, 'StateMachineRole', {
      namePrefix: `${props.name}-upgrade-sfn-`.slice(0, 38),
      assumeRolePolicy: assumeRolePolicy('states.amazonaws.com'),
    });
    const stateMachine = new SfnStateMachine(this, 'StateMachine', {
      name: `${props.name}-call-control-upgrade`,
      roleArn: stateMachineRole.arn,
      definition: JSON.stringify(buildUpgradeStateMachine({ functionArns: this.functionArns, pollSeconds: props.pollSeconds })),
      loggingConfiguration: { logDestination: `${logGroup.arn}:*`, includeExecutionData: true, level: 'ALL' },
      tracingConfiguration: { enabled: true },
    });
    this.stateMachineArn = stateMachine.arn;
    // A local keeps the replace's quoted arguments out of the policy text, which stays parseable JSON.
    const childExecutions = new TerraformLocal(this, 'ChildExecutionArns', `${Fn.replace(stateMachine.arn, ':stateMachine:', ':execution:')}/*`);
    new IamRolePolicy(this, 'StateMachinePolicy', {
      role: stateMachineRole.id,
      policy: policyDocument([
        { actions: ['lambda:InvokeFunction'], resources: Object.values(this.functionArns) },
        // The Distributed Map runs each media server in a child execution of this same state machine.
        { actions: ['states:StartExecution'], resources: [stateMachine.arn] },
        { actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [childExecutions.asString] },
        // CloudWatch Logs delivery for state machines has no resource-level permissions.
        { actions: ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'], resources: ['*'] },
        { actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] },
      ]),
    });
  }
}

/**
 * What the ECS deployer does, scoped as far as ECS allows: update and read its services, read the tasks
 * of their clusters, register task-definition revisions and tag them while registering (the deployer
 * copies the tags of the running revision, and provider default tags guarantee there are some).
 */
function ecsStatements(scope: Construct, fleetInventory: unknown, serviceArns: readonly string[]): PolicyStatement[] {
  const [firstServiceArn] = serviceArns;
  const deployments = parseFleetInventory(fleetInventory).mediaServers.flatMap((server) =>
    server.groups.flatMap((group) => (group.deployment.kind === 'ecs' ? [group.deployment] : [])),
  );
  if (firstServiceArn === undefined || deployments.length === 0) return [];
  // Partition and account are unknown at synth (plans make no AWS calls): the services' ARNs carry them.
  // A local keeps the split's quoted separator out of the policy text, which stays parseable JSON.
  const serviceArnFields = new TerraformLocal(scope, 'ServiceArnFields', Fn.split(':', firstServiceArn));
  const arnField = (index: number) => Token.asString(Fn.element(serviceArnFields.asList, index));
  const [partition, account] = [arnField(1), arnField(4)];
  const ecsArn = (region: string, resource: string) => `arn:${partition}:ecs:${region}:${account}:${resource}`;
  const clusterArns = unique(deployments.map((deployment) => clusterArn(deployment, ecsArn)));
  const regions = unique(deployments.map((deployment) => deployment.region));
  return [
    { actions: ['ecs:UpdateService', 'ecs:DescribeServices'], resources: serviceArns },
    { actions: ['ecs:DescribeTasks'], resources: clusterArns.map((arn) => `${arn.replace(':cluster/', ':task/')}/*`) },
    // ListTasks names no resource; its cluster is the only scope ECS offers.
    { actions: ['ecs:ListTasks'], resources: ['*'], conditions: { ArnEquals: { 'ecs:cluster': clusterArns } } },
    // ECS has no resource-level permissions for task-definition registration and reads.
    { actions: ['ecs:RegisterTaskDefinition', 'ecs:DescribeTaskDefinition'], resources: ['*'] },
    {
      actions: ['ecs:TagResource'],
      resources: regions.map((region) => ecsArn(region, 'task-definition/*')),
      conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
    },
  ];
}

function clusterArn(deployment: EcsDeployment, ecsArn: (region: string, resource: string) => string): string {
  return deployment.cluster.startsWith('arn:') ? deployment.cluster : ecsArn(deployment.region, `cluster/${deployment.cluster}`);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

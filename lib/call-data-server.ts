import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { markComponent } from './component';
import { DurableTable } from './durable-table';
import { ECS_TASK_EXECUTION_POLICY_ARN, assumeRolePolicy, attachManagedPolicies, policyDocument } from './iam-policy';
import { CDS_PORT } from './ports';

/** Another site's CDS, reached across the VPC peering. */
export interface CdsPeerSite {
  readonly siteId: string;
  /** The peer site's VPC: its CDS may call this one's peer API. */
  readonly vpcCidr: string;
  /**
   * Base URL of the peer's CDS (e.g. `http://cds.east.acme.internal:7070`). Without it the peer is
   * admitted but not called.
   */
  readonly url?: string;
}

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
  /**
   * The other sites' CDS nodes.
   * @default none
   */
  readonly peers?: readonly CdsPeerSite[];
  /**
   * Event sockets (`HOST:PORT`) of the site's media servers, whose channel events the CDS collects.
   * @default none
   */
  readonly mediaServerEventSockets?: readonly string[];
  /** Full ARN of the event socket password secret (it may be in another region); required with mediaServerEventSockets. */
  readonly eslSecretArn?: string;
}

/** Environment variables of the container, filled by ECS from Secrets Manager. */
const PEER_KEY_VARIABLE = 'VOICEPLANE_CDS_PEER_KEY';
const ESL_PASSWORD_VARIABLE = 'VOICEPLANE_ESL_PASSWORD';

/**
 * The site's Call Data Server: its DynamoDB table (TTL on `expiresAt`, PITR), one ECS Fargate task running
 * `voiceplane cds serve` from the runtime image, whose role reaches only its table and the archive, the
 * peer API open to the other sites' VPCs, and the secret holding the peer API's shared key. The secret is
 * created without a value so the key never enters Terraform state: put the same value in every site's
 * secret out of band (`aws secretsmanager put-secret-value`) before the task starts.
 */
export class CallDataServer extends Construct {
  public readonly tableName: string;
  public readonly tableArn: string;
  public readonly securityGroupId: string;
  public readonly clusterArn: string;
  public readonly serviceArn: string;
  public readonly taskRoleArn: string;
  public readonly peerKeySecretArn: string;

  constructor(scope: Construct, id: string, props: CallDataServerProps) {
    super(scope, id);
    markComponent(this, 'call-data-server');
    const peers = props.peers ?? [];
    const eventSockets = props.mediaServerEventSockets ?? [];
    validatePeers(props.siteId, props.vpcCidr, peers);
    if (eventSockets.length > 0 && !props.eslSecretArn) throw new Error(`eslSecretArn is required with mediaServerEventSockets (site ${props.siteId})`);
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
    peers.forEach((peer) => {
      new VpcSecurityGroupIngressRule(this, `PeerFrom-${peer.siteId}`, {
        securityGroupId: securityGroup.id,
        description: `CDS peer API from site ${peer.siteId}`,
        ipProtocol: 'tcp',
        fromPort: CDS_PORT,
        toPort: CDS_PORT,
        cidrIpv4: peer.vpcCidr,
      });
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
    // No secret version: the value is put out of band, so it is never in Terraform state.
    const peerKey = new SecretsmanagerSecret(this, 'PeerKey', {
      name: `${props.name}-cds-peer-key`,
      description: 'Shared key of the CDS peer API: the same value in every site, set outside Terraform',
      recoveryWindowInDays: 7,
    });
    this.peerKeySecretArn = peerKey.arn;
    const secrets = [{ name: PEER_KEY_VARIABLE, valueFrom: peerKey.arn }, ...(props.eslSecretArn ? [{ name: ESL_PASSWORD_VARIABLE, valueFrom: props.eslSecretArn }] : [])];
    // ECS reads the secrets with the execution role when it starts the task.
    new IamRolePolicy(this, 'ExecutionSecretsPolicy', {
      role: executionRole.id,
      policy: policyDocument([{ actions: ['secretsmanager:GetSecretValue'], resources: secrets.map((secret) => secret.valueFrom) }]),
    });
    const taskRole = new IamRole(this, 'TaskRole', {
      namePrefix: `${props.name}-cds-task-`.slice(0, 38),
      assumeRolePolicy: assumeRolePolicy('ecs-tasks.amazonaws.com'),
    });
    this.taskRoleArn = taskRole.arn;
    new IamRolePolicy(this, 'TaskPolicy', {
      role: taskRole.id,
      policy: policyDocument([
        { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:DescribeTable'], resources: [table.tableArn] },
        { actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:BatchWriteItem'], resources: [props.archiveTableArn] },
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
          command: [
            ...['cds', 'serve', '--site', props.siteId, '--listen', `0.0.0.0:${CDS_PORT}`, '--table', table.tableName, '--archive-table', props.archiveTableName],
            ...peers.filter((peer) => peer.url !== undefined).flatMap((peer) => ['--peer', `${peer.siteId}=${peer.url}`]),
            ...eventSockets.flatMap((socket) => ['--media-server', socket]),
          ],
          portMappings: [{ containerPort: CDS_PORT, protocol: 'tcp' }],
          environment: [{ name: 'AWS_REGION', value: props.region }],
          secrets,
          // The image has node but maybe no curl.
          healthCheck: {
            command: ['CMD', 'node', '-e', `require('http').get('http://127.0.0.1:${CDS_PORT}/health',(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))`],
            interval: 15,
            timeout: 5,
            retries: 3,
            startPeriod: 30,
          },
          stopTimeout: 30,
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

function validatePeers(siteId: string, vpcCidr: string, peers: readonly CdsPeerSite[]): void {
  const seen = new Set<string>();
  for (const peer of peers) {
    if (peer.siteId === siteId) throw new Error(`peers of site ${siteId} include the site itself`);
    if (seen.has(peer.siteId)) throw new Error(`peers of site ${siteId} name ${peer.siteId} twice`);
    if (peer.vpcCidr === vpcCidr) throw new Error(`peer ${peer.siteId} has the VPC CIDR of site ${siteId} (${vpcCidr})`);
    if (peer.url !== undefined && !/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(peer.url)) throw new Error(`peer ${peer.siteId} url must be http(s)://HOST[:PORT], got "${peer.url}"`);
    seen.add(peer.siteId);
  }
}

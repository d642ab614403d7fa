import { Construct } from 'constructs';
import type { z } from 'zod';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { replaceableSecurityGroup } from './replaceable-security-group';
import { httpContainerHealthCheck } from './container-health-check';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { markComponent } from './component';
import { DurableTable } from './durable-table';
import { kmsKeyStatements, validateKmsKeyArn } from './customer-managed-key';
import { ECS_TASK_EXECUTION_POLICY_ARN, assumeRolePolicy, attachManagedPolicies, policyDocument } from './iam-policy';
import { shortName } from './naming';
import { CDS_PEER_PORT, CDS_PORT } from './ports';
import { AWS_DYNAMODB, cdsPeerUrlSchema, cdsServeCommandLine } from '../runtime/commands/cds-serve-options';
import { CDS_LOCAL_TOKEN_VARIABLE, CDS_PEER_KEY_VARIABLE, ESL_PASSWORD_VARIABLE } from '../runtime/commands/secret-variables';
import { ownedArchiveKeys } from '../runtime/cds/store/call-keys';
import { peerPublicKeySchema } from '../runtime/cds/network/peer-identity';
import { MAX_PORT, splitHostPort, type HostPort } from '../runtime/net/host-port';
import { parseCidr } from '../runtime/net/ipv4';
import { planCdsEndpoint, planSubnets } from '../runtime/net/network-plan';

/** Another site's CDS, reached across the VPC peering. */
export interface CdsPeerSite {
  readonly siteId: string;
  /** The peer site's VPC: its CDS may call this one's peer API (and only that). */
  readonly vpcCidr: string;
  /**
   * Base URLs of the peer's CDS, tried in order (e.g. its load balancer's address in each zone, see
   * {@link cdsPeerUrls}).
   * @default none: the peer is admitted but not called
   */
  readonly urls?: readonly string[];
  /**
   * The peer's CDS public key (Ed25519, base64 SPKI DER, as `voiceplane cds keygen` prints): its requests are
   * taken only when signed with the matching private key. Not a secret.
   */
  readonly publicKey: string;
}

export interface CallDataServerProps {
  /** Resource name prefix, e.g. `acme-site-west`. */
  readonly name: string;
  readonly siteId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  /** Private subnets of the task and the load balancer, one per availability zone, in zone order. */
  readonly subnetIds: string[];
  /**
   * Availability zones of `subnetIds`, in the same order. With `vpcCidr` they fix the load balancer's
   * addresses ({@link planCdsEndpoint}): the subnets must follow the VPC's subnet plan (`VpcNetwork`).
   */
  readonly availabilityZones: readonly string[];
  /** Image of the voiceplane runtime, with tag. */
  readonly runtimeImage: string;
  /**
   * Networks of the site's CDS clients, the only ones admitted to the local API ({@link CDS_PORT}; each client also
   * needs the site's local token). Neither the whole VPC (its public subnets hold the media servers and SIP nodes)
   * nor other sites belong here: other sites reach only the peer API ({@link CDS_PEER_PORT}).
   * @default the site's private subnets ({@link planSubnets} of `vpcCidr` and `availabilityZones`)
   */
  readonly localClientCidrs?: readonly string[];
  /** The data center's CDR archive table, written once per ended call (an ARN: it is in the data center's region). */
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
  /**
   * Full ARN of the event socket password secret (it may be in another region); required with
   * mediaServerEventSockets. The task holds one password, so every socket listed must accept it.
   * @default none
   */
  readonly eslSecretArn?: string;
  /**
   * Customer-managed KMS key (ARN, in `region`) of the table, the log group and the peer key secret.
   * @default AWS-managed keys
   */
  readonly kmsKeyArn?: string;
  /**
   * The customer-managed KMS key of the archive table and the ESL password secret, when their data center has one
   * (a key of the data center's region).
   * @default AWS-managed keys
   */
  readonly dataCenterKmsKeyArn?: string;
}

/**
 * Base URLs by which the other sites call a site's CDS: its load balancer's planned address in each
 * availability zone, in zone order ({@link planCdsEndpoint}), so losing one zone does not cut the site
 * off. Pure, so a site computes its peers' URLs from the topology without reading their state.
 */
export function cdsPeerUrls(vpcCidr: string, availabilityZones: readonly string[]): string[] {
  if (availabilityZones.length === 0) throw new Error(`availabilityZones must name at least one zone to plan the CDS address of ${vpcCidr}`);
  return planCdsEndpoint(vpcCidr, availabilityZones).map((address) => `http://${address.privateIp}:${CDS_PEER_PORT}`);
}

/**
 * The site's Call Data Server: its DynamoDB table (TTL on `expiresAt`, PITR), one ECS Fargate task running
 * `voiceplane cds serve` from the runtime image, whose role reaches only its table and the archive, the
 * peer API open to the other sites' VPCs, and the secret holding the site's CDS private key (Ed25519): the site
 * signs its peer requests with it, and the other sites check them with its public key, which they take from the
 * topology (`cdsPublicKey`; each peer's is on the task's command line: public keys are not secrets). The secret is
 * created without a value so the key never enters Terraform state: make a key with `voiceplane cds keygen --out F`,
 * put the file's content in the site's secret out of band (`aws secretsmanager put-secret-value --secret-string
 * file://F`) before the task starts, and put the public key it prints in the site's `cdsPublicKey`.
 *
 * A Fargate task has no stable address, so the task sits behind an internal Network Load Balancer with a
 * fixed private address in each private subnet ({@link planCdsEndpoint}); {@link peerUrls} are the addresses
 * the other sites call, and they compute them from the topology alone ({@link cdsPeerUrls}). The local API
 * and the peer API listen on ports of their own, each with its listener and target group: the load balancer
 * admits the local port ({@link CDS_PORT}) only from `localClientCidrs` and the peer port ({@link CDS_PEER_PORT})
 * only from the peers' VPCs. A local client also presents the site's local token, held in a second secret that is
 * likewise created without a value: put a random value (32 or more visible ASCII characters) in it out of band and
 * give it to the site's clients.
 */
export class CallDataServer extends Construct {
  public readonly tableName: string;
  public readonly tableArn: string;
  public readonly securityGroupId: string;
  public readonly clusterArn: string;
  /** The ECS cluster and service of the node (Container Insights dimensions). */
  public readonly clusterName: string;
  public readonly serviceName: string;
  public readonly serviceArn: string;
  public readonly taskRoleArn: string;
  public readonly peerKeySecretArn: string;
  /** The secret holding the site's local API token, which its clients send (created without a value). */
  public readonly localTokenSecretArn: string;
  public readonly loadBalancerArn: string;
  /** Fixed private addresses of the load balancer, one per availability zone, in zone order. */
  public readonly endpointAddresses: readonly string[];
  /** Base URLs of this CDS for the other sites (`http://<address in each zone>:<CDS peer port>`). */
  public readonly peerUrls: readonly string[];

  constructor(scope: Construct, id: string, props: CallDataServerProps) {
    super(scope, id);
    markComponent(this, 'call-data-server');
    const peers = props.peers ?? [];
    const eventSockets = eventSocketsOf(props.siteId, props.mediaServerEventSockets ?? []);
    validatePeers(props.siteId, props.vpcCidr, peers);
    if (props.availabilityZones.length === 0) throw new Error(`availabilityZones must name at least one zone (site ${props.siteId})`);
    if (props.subnetIds.length !== props.availabilityZones.length) {
      throw new Error(`subnetIds must hold one private subnet per availability zone (${props.availabilityZones.length}), got ${props.subnetIds.length} (site ${props.siteId})`);
    }
    const endpoint = planCdsEndpoint(props.vpcCidr, props.availabilityZones);
    this.endpointAddresses = endpoint.map((address) => address.privateIp);
    this.peerUrls = cdsPeerUrls(props.vpcCidr, props.availabilityZones);
    if (eventSockets.length > 0 && !props.eslSecretArn) throw new Error(`eslSecretArn is required with mediaServerEventSockets (site ${props.siteId})`);
    const localClientCidrs = localClientCidrsOf(props);
    validateKmsKeyArn(props.kmsKeyArn, props.region, 'kmsKeyArn');
    const table = new DurableTable(this, 'Table', { tableName: `${props.name}-cds`, ttlAttribute: 'expiresAt', kmsKeyArn: props.kmsKeyArn });
    this.tableName = table.tableName;
    this.tableArn = table.tableArn;

    const securityGroup = replaceableSecurityGroup(this, 'SecurityGroup', {
      namePrefix: `${props.name}-cds-`,
      description: `Call Data Server of site ${props.siteId}`,
      vpcId: props.vpcId,
    });
    this.securityGroupId = securityGroup.id;
    new VpcSecurityGroupEgressRule(this, 'AllEgress', {
      securityGroupId: securityGroup.id,
      description: 'Peers, media server event sockets, AWS APIs',
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
    });

    // The load balancer: the only fixed address of the CDS, for the site's clients (local port) and the peers (peer port).
    const loadBalancerSecurityGroup = replaceableSecurityGroup(this, 'LoadBalancerSecurityGroup', {
      namePrefix: `${props.name}-cds-lb-`,
      description: `Call Data Server load balancer of site ${props.siteId}`,
      vpcId: props.vpcId,
    });
    localClientCidrs.forEach((cidr, index) => {
      new VpcSecurityGroupIngressRule(this, `LoadBalancerFromLocalClients${index}`, {
        securityGroupId: loadBalancerSecurityGroup.id,
        description: `CDS local API from site clients in ${cidr}`,
        ipProtocol: 'tcp',
        fromPort: CDS_PORT,
        toPort: CDS_PORT,
        cidrIpv4: cidr,
      });
    });
    peers.forEach((peer) => {
      new VpcSecurityGroupIngressRule(this, `LoadBalancerFromPeer-${peer.siteId}`, {
        securityGroupId: loadBalancerSecurityGroup.id,
        description: `CDS peer API from site ${peer.siteId}`,
        ipProtocol: 'tcp',
        fromPort: CDS_PEER_PORT,
        toPort: CDS_PEER_PORT,
        cidrIpv4: peer.vpcCidr,
      });
    });
    new VpcSecurityGroupEgressRule(this, 'LoadBalancerToTask', {
      securityGroupId: loadBalancerSecurityGroup.id,
      description: 'Forward and health-check the CDS local API',
      ipProtocol: 'tcp',
      fromPort: CDS_PORT,
      toPort: CDS_PORT,
      referencedSecurityGroupId: securityGroup.id,
    });
    new VpcSecurityGroupEgressRule(this, 'LoadBalancerToTaskPeerApi', {
      securityGroupId: loadBalancerSecurityGroup.id,
      description: 'Forward and health-check the CDS peer API',
      ipProtocol: 'tcp',
      fromPort: CDS_PEER_PORT,
      toPort: CDS_PEER_PORT,
      referencedSecurityGroupId: securityGroup.id,
    });
    new VpcSecurityGroupIngressRule(this, 'ApiFromLoadBalancer', {
      securityGroupId: securityGroup.id,
      description: 'CDS local API and health checks from the load balancer',
      ipProtocol: 'tcp',
      fromPort: CDS_PORT,
      toPort: CDS_PORT,
      referencedSecurityGroupId: loadBalancerSecurityGroup.id,
    });
    new VpcSecurityGroupIngressRule(this, 'PeerApiFromLoadBalancer', {
      securityGroupId: securityGroup.id,
      description: 'CDS peer API and health checks from the load balancer',
      ipProtocol: 'tcp',
      fromPort: CDS_PEER_PORT,
      toPort: CDS_PEER_PORT,
      referencedSecurityGroupId: loadBalancerSecurityGroup.id,
    });
    const loadBalancer = new Lb(this, 'LoadBalancer', {
      name: shortName([props.name, 'cds'], 32),
      internal: true,
      loadBalancerType: 'network',
      subnetMapping: endpoint.map((address) => ({ subnetId: props.subnetIds[address.zoneIndex], privateIpv4Address: address.privateIp })),
      securityGroups: [loadBalancerSecurityGroup.id],
      enableCrossZoneLoadBalancing: true,
      // Its addresses are the peers' URLs: replacing it must be deliberate.
      enableDeletionProtection: true,
    });
    this.loadBalancerArn = loadBalancer.arn;
    const targetGroup = cdsTargetGroup(this, 'TargetGroup', { port: CDS_PORT, vpcId: props.vpcId, name: `${props.name}-cds` });
    const listener = new LbListener(this, 'Listener', {
      loadBalancerArn: loadBalancer.arn,
      protocol: 'TCP',
      port: CDS_PORT,
      defaultAction: [{ type: 'forward', targetGroupArn: targetGroup.arn }],
    });
    const peerTargetGroup = cdsTargetGroup(this, 'PeerTargetGroup', { port: CDS_PEER_PORT, vpcId: props.vpcId, name: `${props.name}-cds-peer` });
    const peerListener = new LbListener(this, 'PeerListener', {
      loadBalancerArn: loadBalancer.arn,
      protocol: 'TCP',
      port: CDS_PEER_PORT,
      defaultAction: [{ type: 'forward', targetGroupArn: peerTargetGroup.arn }],
    });

    const cluster = new EcsCluster(this, 'Cluster', { name: `${props.name}-cds`, setting: [{ name: 'containerInsights', value: 'enabled' }] });
    this.clusterArn = cluster.arn;
    this.clusterName = cluster.name;
    const logGroup = new CloudwatchLogGroup(this, 'LogGroup', { name: `/voiceplane/cds/${props.name}`, retentionInDays: props.logRetentionDays ?? 30, kmsKeyId: props.kmsKeyArn });

    const executionRole = new IamRole(this, 'ExecutionRole', {
      namePrefix: `${props.name}-cds-exec-`.slice(0, 38),
      assumeRolePolicy: assumeRolePolicy('ecs-tasks.amazonaws.com'),
    });
    attachManagedPolicies(this, 'ExecutionRole', executionRole.name, [ECS_TASK_EXECUTION_POLICY_ARN]);
    // No secret version: the value is put out of band, so it is never in Terraform state.
    const peerKey = new SecretsmanagerSecret(this, 'PeerKey', {
      name: `${props.name}-cds-peer-key`,
      description: "The site's CDS private key (PKCS#8 PEM from voiceplane cds keygen), set outside Terraform",
      recoveryWindowInDays: 7,
      kmsKeyId: props.kmsKeyArn,
    });
    this.peerKeySecretArn = peerKey.arn;
    // Likewise put out of band: the site's clients hold the same value.
    const localToken = new SecretsmanagerSecret(this, 'LocalToken', {
      name: `${props.name}-cds-local-token`,
      description: `Token of the CDS local API of site ${props.siteId}: its clients send it as a bearer token, set outside Terraform`,
      recoveryWindowInDays: 7,
      kmsKeyId: props.kmsKeyArn,
    });
    this.localTokenSecretArn = localToken.arn;
    // ECS fills these variables from Secrets Manager: `cds serve` reads the secrets from them.
    const secrets = [{ name: CDS_LOCAL_TOKEN_VARIABLE, valueFrom: localToken.arn }, { name: CDS_PEER_KEY_VARIABLE, valueFrom: peerKey.arn }, ...(props.eslSecretArn ? [{ name: ESL_PASSWORD_VARIABLE, valueFrom: props.eslSecretArn }] : [])];
    // ECS reads the secrets with the execution role when it starts the task.
    new IamRolePolicy(this, 'ExecutionSecretsPolicy', {
      role: executionRole.id,
      policy: policyDocument([
        { actions: ['secretsmanager:GetSecretValue'], resources: secrets.map((secret) => secret.valueFrom) },
        ...kmsKeyStatements(props.kmsKeyArn, ['secretsmanager'], 'read'),
        ...(props.eslSecretArn ? kmsKeyStatements(props.dataCenterKmsKeyArn, ['secretsmanager'], 'read') : []),
      ]),
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
        { actions: ['dynamodb:DescribeTable'], resources: [props.archiveTableArn] },
        // The archive is shared by the sites: each writes only the records of the calls it owns.
        {
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          resources: [props.archiveTableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [ownedArchiveKeys(props.siteId)] } },
        },
        ...kmsKeyStatements(props.kmsKeyArn, ['dynamodb']),
        ...kmsKeyStatements(props.dataCenterKmsKeyArn, ['dynamodb']),
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
          command: cdsServeCommandLine({
            site: props.siteId,
            listen: { host: '0.0.0.0', port: CDS_PORT },
            peerListen: { host: '0.0.0.0', port: CDS_PEER_PORT },
            dynamoDbEndpoint: AWS_DYNAMODB,
            table: table.tableName,
            archiveTable: props.archiveTableArn,
            peers: peers.map((peer) => ({ id: peer.siteId, urls: peer.urls ?? [], publicKey: peer.publicKey })),
            mediaServers: eventSockets,
          }),
          portMappings: [
            { containerPort: CDS_PORT, protocol: 'tcp' },
            { containerPort: CDS_PEER_PORT, protocol: 'tcp' },
          ],
          environment: [{ name: 'AWS_REGION', value: props.region }],
          secrets,
          healthCheck: httpContainerHealthCheck(CDS_PORT, '/health', { interval: 15, timeout: 5, retries: 3, startPeriod: 30 }),
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
      loadBalancer: [
        { targetGroupArn: targetGroup.arn, containerName: 'cds', containerPort: CDS_PORT },
        { targetGroupArn: peerTargetGroup.arn, containerName: 'cds', containerPort: CDS_PEER_PORT },
      ],
      // The task's own health check has a 30 s start period; the load balancer's must not kill it sooner.
      healthCheckGracePeriodSeconds: 60,
      propagateTags: 'SERVICE',
      // ECS registers the task only with a target group that a listener already uses.
      dependsOn: [listener, peerListener],
    });
    this.serviceArn = service.id;
    this.serviceName = service.name;
  }
}

/** A target group of the CDS task on one of its ports, health-checked on that port (each listener has its own `/health`). */
function cdsTargetGroup(scope: Construct, id: string, target: { readonly port: number; readonly vpcId: string; readonly name: string }): LbTargetGroup {
  return new LbTargetGroup(scope, id, {
    namePrefix: 'cds-',
    targetType: 'ip',
    protocol: 'TCP',
    port: target.port,
    vpcId: target.vpcId,
    // ECS deregisters the old task, waits this long for requests in flight, then stops it: CDS requests are short.
    deregistrationDelay: '30',
    healthCheck: {
      protocol: 'HTTP',
      port: String(target.port),
      path: '/health',
      matcher: '200',
      interval: 10,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
    },
    tags: { Name: target.name },
    lifecycle: { createBeforeDestroy: true },
  });
}

/** `localClientCidrs`, by default the site's private subnets; each must be an IPv4 CIDR inside the site's VPC. */
function localClientCidrsOf(props: CallDataServerProps): readonly string[] {
  const cidrs = props.localClientCidrs ?? planSubnets(props.vpcCidr, props.availabilityZones).map((subnet) => subnet.privateCidr);
  if (cidrs.length === 0) throw new Error(`localClientCidrs must name at least one network (site ${props.siteId})`);
  for (const cidr of cidrs) {
    if (!parseCidr(cidr)) throw new Error(`localClientCidrs must be IPv4 CIDRs, got "${cidr}" (site ${props.siteId})`);
  }
  if (new Set(cidrs).size !== cidrs.length) throw new Error(`localClientCidrs name a network twice (site ${props.siteId})`);
  return cidrs;
}

/**
 * What is wrong with a value, per schema and value already checked (undefined: nothing). Every site checks the key and
 * the URLs of every other site: remembering the verdicts keeps a platform's peer checks linear in its sites.
 */
const verdicts = new WeakMap<z.ZodType, Map<string, string | undefined>>();

function problemWith(schema: z.ZodType, value: string): string | undefined {
  const known = verdicts.get(schema) ?? new Map<string, string | undefined>();
  verdicts.set(schema, known);
  if (!known.has(value)) {
    const result = schema.safeParse(value);
    known.set(value, result.success ? undefined : (result.error.issues[0]?.message ?? 'is invalid'));
  }
  return known.get(value);
}

function validatePeers(siteId: string, vpcCidr: string, peers: readonly CdsPeerSite[]): void {
  const seen = new Set<string>();
  for (const peer of peers) {
    if (peer.siteId === siteId) throw new Error(`peers of site ${siteId} include the site itself`);
    if (seen.has(peer.siteId)) throw new Error(`peers of site ${siteId} name ${peer.siteId} twice`);
    if (peer.vpcCidr === vpcCidr) throw new Error(`peer ${peer.siteId} has the VPC CIDR of site ${siteId} (${vpcCidr})`);
    const keyProblem = problemWith(peerPublicKeySchema, peer.publicKey);
    if (keyProblem !== undefined) throw new Error(`peer ${peer.siteId} publicKey ${keyProblem}`);
    for (const url of peer.urls ?? []) {
      if (problemWith(cdsPeerUrlSchema, url) !== undefined) throw new Error(`peer ${peer.siteId} urls must be http(s)://HOST[:PORT], got "${url}"`);
    }
    seen.add(peer.siteId);
  }
}

/** The event sockets as `cds serve --media-server` takes them; a malformed one is refused here, not at task start. */
function eventSocketsOf(siteId: string, sockets: readonly string[]): HostPort[] {
  return sockets.map((socket) => {
    const target = splitHostPort(socket);
    if (target === undefined || target.port < 1 || target.port > MAX_PORT) throw new Error(`mediaServerEventSockets must be HOST:PORT, got "${socket}" (site ${siteId})`);
    return target;
  });
}

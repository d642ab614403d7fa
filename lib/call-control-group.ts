import type { z } from 'zod';
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { markComponent } from './component';
import { httpContainerHealthCheck } from './container-health-check';
import { CALL_CONTROL_ESL_PORT, CALL_CONTROL_HEALTH_PORT } from './ports';
import { callControlEnvironment } from '../runtime/call-control/call-control-environment';
import { groupIdSchema, mediaServerIdSchema } from '../runtime/contracts/call-control-ids';
import { formatImageReference, imageRepositorySchema, imageTagSchema } from '../runtime/contracts/container-image';
import { parseOrThrowWith } from '../runtime/validation/zod-issues';

export interface CallControlGroupProps {
  /** Resource name prefix, unique in the data center (e.g. `acme-west-ms-1-blue`). */
  readonly name: string;
  /** Group id as the dialplan and the orchestrator know it (`blue`, `green`). */
  readonly groupId: string;
  /** The media server this group serves, `<site>/<media server>`. */
  readonly mediaServer: string;
  /** Region of the data center (for the log driver). */
  readonly region: string;
  readonly clusterArn: string;
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** Security group of the tasks (admits the load balancer and the orchestrator). */
  readonly taskSecurityGroupId: string;
  /** The media server's internal network load balancer. */
  readonly loadBalancerArn: string;
  /** Port of this group on the load balancer; the dialplan references `<endpoint>:<port>`. */
  readonly listenerPort: number;
  /** Container image repository, without tag. */
  readonly image: string;
  /** Image tag to start with; later versions are rolled out by the upgrade orchestrator, not by Terraform. */
  readonly version: string;
  /** Number of tasks. */
  readonly instances: number;
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  /**
   * Task size.
   * @default { cpu: 512, memory: 1024 }
   */
  readonly taskSize?: { readonly cpu: number; readonly memory: number };
  /**
   * Days to keep the group's logs.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * Customer-managed KMS key (ARN, in `region`) encrypting the group's logs; its key policy must let CloudWatch Logs use it.
   * @default CloudWatch Logs' own encryption
   */
  readonly kmsKeyArn?: string;
}

/** Seconds ECS waits after SIGTERM before it kills a call-control container (the Fargate maximum). */
const STOP_TIMEOUT_SECONDS = 120;
/** An outbound ESL connection is idle between call events; the load balancer must not cut it mid-call. */
const LISTENER_TCP_IDLE_TIMEOUT_SECONDS = 6000;

/**
 * One call-control group of one media server: an ECS Fargate service running the call-control
 * image, reachable from its media server through a dedicated listener of the media server's
 * load balancer. Terraform creates the service with `version` and then leaves the task definition
 * alone: a `cdktf deploy` must never restart call control under live calls. Upgrades drain first
 * (see `voiceplane upgrade`).
 */
export class CallControlGroup extends Construct {
  public readonly groupId: string;
  /** `<site>/<media server>`. */
  public readonly mediaServer: string;
  public readonly serviceName: string;
  /** ARN of the ECS service (what the orchestrator updates). */
  public readonly serviceArn: string;
  public readonly taskDefinitionFamily: string;
  public readonly targetGroupArn: string;
  /** The target group's `arn_suffix`, its dimension in AWS/NetworkELB metrics. */
  public readonly targetGroupArnSuffix: string;
  public readonly listenerArn: string;
  public readonly listenerPort: number;
  public readonly logGroupName: string;
  public readonly logGroupArn: string;

  constructor(scope: Construct, id: string, props: CallControlGroupProps) {
    super(scope, id);
    markComponent(this, 'call-control');
    if (!Number.isInteger(props.instances) || props.instances < 1) {
      throw new Error(`instances must be a positive integer, got ${props.instances}`);
    }
    // The rules the upgrade orchestrator and the container's entry point apply: what synthesizes also upgrades and starts.
    const valid = <T>(schema: z.ZodType<T>, value: T, prop: string) => parseOrThrowWith(schema, value, prop, (message) => new Error(message));
    valid(groupIdSchema, props.groupId, 'groupId');
    valid(mediaServerIdSchema, props.mediaServer, 'mediaServer');
    valid(imageRepositorySchema, props.image, 'image');
    valid(imageTagSchema, props.version, 'version');
    const taskSize = props.taskSize ?? { cpu: 512, memory: 1024 };
    this.groupId = props.groupId;
    this.mediaServer = props.mediaServer;
    this.listenerPort = props.listenerPort;
    this.serviceName = props.name;
    this.taskDefinitionFamily = props.name;

    const logGroup = new CloudwatchLogGroup(this, 'LogGroup', {
      name: `/voiceplane/call-control/${props.name}`,
      retentionInDays: props.logRetentionDays ?? 30,
      kmsKeyId: props.kmsKeyArn,
    });
    this.logGroupName = logGroup.name;
    this.logGroupArn = logGroup.arn;

    const targetGroup = new LbTargetGroup(this, 'TargetGroup', {
      namePrefix: 'cc-',
      targetType: 'ip',
      protocol: 'TCP',
      port: CALL_CONTROL_ESL_PORT,
      vpcId: props.vpcId,
      // Drain completes before the orchestrator replaces tasks; a long delay would only slow rollouts.
      deregistrationDelay: '30',
      healthCheck: {
        protocol: 'HTTP',
        port: String(CALL_CONTROL_HEALTH_PORT),
        path: '/health',
        matcher: '200',
        interval: 10,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      },
      tags: { Name: props.name, Group: props.groupId, MediaServer: props.mediaServer },
      lifecycle: { createBeforeDestroy: true },
    });
    this.targetGroupArn = targetGroup.arn;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;

    const listener = new LbListener(this, 'Listener', {
      loadBalancerArn: props.loadBalancerArn,
      protocol: 'TCP',
      port: props.listenerPort,
      tcpIdleTimeoutSeconds: LISTENER_TCP_IDLE_TIMEOUT_SECONDS,
      defaultAction: [{ type: 'forward', targetGroupArn: targetGroup.arn }],
    });
    this.listenerArn = listener.arn;

    const taskDefinition = new EcsTaskDefinition(this, 'TaskDefinition', {
      family: props.name,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: String(taskSize.cpu),
      memory: String(taskSize.memory),
      executionRoleArn: props.executionRoleArn,
      taskRoleArn: props.taskRoleArn,
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
      containerDefinitions: JSON.stringify([
        {
          name: 'call-control',
          image: formatImageReference({ repository: props.image, tag: props.version }),
          essential: true,
          stopTimeout: STOP_TIMEOUT_SECONDS,
          portMappings: [
            { containerPort: CALL_CONTROL_ESL_PORT, protocol: 'tcp' },
            { containerPort: CALL_CONTROL_HEALTH_PORT, protocol: 'tcp' },
          ],
          environment: Object.entries(
            callControlEnvironment({ group: props.groupId, version: props.version, mediaServer: props.mediaServer, eslPort: CALL_CONTROL_ESL_PORT, healthPort: CALL_CONTROL_HEALTH_PORT }),
          ).map(([name, value]) => ({ name, value })),
          readonlyRootFilesystem: true,
          // Liveness: ECS replaces a task that stopped answering. Not /health, which turns 503 while a stopping task
          // drains its calls (readiness, for the load balancer) and must not get it killed before its calls end.
          healthCheck: httpContainerHealthCheck(CALL_CONTROL_HEALTH_PORT, '/calls', { interval: 15, timeout: 5, retries: 3, startPeriod: 15 }),
          logConfiguration: {
            logDriver: 'awslogs',
            options: { 'awslogs-group': logGroup.name, 'awslogs-region': props.region, 'awslogs-stream-prefix': 'call-control' },
          },
        },
      ]),
    });

    const service = new EcsService(this, 'Service', {
      name: props.name,
      cluster: props.clusterArn,
      taskDefinition: taskDefinition.arn,
      desiredCount: props.instances,
      launchType: 'FARGATE',
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriodSeconds: 30,
      networkConfiguration: { subnets: props.subnetIds, securityGroups: [props.taskSecurityGroupId], assignPublicIp: false },
      loadBalancer: [{ targetGroupArn: targetGroup.arn, containerName: 'call-control', containerPort: CALL_CONTROL_ESL_PORT }],
      propagateTags: 'SERVICE',
      enableEcsManagedTags: true,
      waitForSteadyState: true,
      lifecycle: { ignoreChanges: ['task_definition'] },
      dependsOn: [listener],
    });
    this.serviceArn = service.id;
  }
}

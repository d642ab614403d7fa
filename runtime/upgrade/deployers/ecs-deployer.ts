import {
  type ContainerDefinition,
  DescribeServicesCommand,
  type DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandOutput,
  DescribeTasksCommand,
  type DescribeTasksCommandOutput,
  ListTasksCommand,
  type ListTasksCommandOutput,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandOutput,
  type TaskDefinition,
  UpdateServiceCommand,
  type UpdateServiceCommandOutput,
} from '@aws-sdk/client-ecs';
import { z } from 'zod';
import type { GroupDeployer, GroupInstance, Release } from './deployer';
import type { EcsDeployment } from '../inventory/fleet-inventory';
import { formatImage, parseImage } from './image-reference';
import { describeIssues } from '../request/input-error';
import { UpgradeStepError, type DeploymentCheck } from '../flow/upgrade-steps';
import { CALL_CONTROL_VARIABLES } from '../../call-control/call-control-environment';
import { imageRepositoryRefusal } from '../../contracts/image-allow-list';

/** The ECS calls the deployer makes: `ECSClient` satisfies it (and so does a test double at this boundary). */
export interface EcsApi {
  send(command: DescribeServicesCommand): Promise<DescribeServicesCommandOutput>;
  send(command: DescribeTaskDefinitionCommand): Promise<DescribeTaskDefinitionCommandOutput>;
  send(command: RegisterTaskDefinitionCommand): Promise<RegisterTaskDefinitionCommandOutput>;
  send(command: UpdateServiceCommand): Promise<UpdateServiceCommandOutput>;
  send(command: ListTasksCommand): Promise<ListTasksCommandOutput>;
  send(command: DescribeTasksCommand): Promise<DescribeTasksCommandOutput>;
}

/** The container variable the call-control service reports as its version (kept equal to the image tag). */
export const VERSION_VARIABLE = CALL_CONTROL_VARIABLES.version;

/** DescribeTasks takes at most 100 tasks per call. */
const DESCRIBE_TASKS_BATCH = 100;

/** Task-definition fields RegisterTaskDefinition accepts back (the rest of DescribeTaskDefinition is read-only). */
const REGISTERABLE_FIELDS = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
] as const satisfies readonly (keyof TaskDefinition)[];

// Only what the deployer relies on is checked; everything else of the reply is copied through untouched.
const serviceSchema = z.looseObject({
  serviceName: z.string(),
  taskDefinition: z.string(),
  deployments: z
    .array(
      z.looseObject({
        status: z.string(),
        taskDefinition: z.string(),
        rolloutState: z.string().optional(),
        rolloutStateReason: z.string().optional(),
        desiredCount: z.number(),
        runningCount: z.number(),
      }),
    )
    .default([]),
});

const taskDefinitionSchema = z.looseObject({
  taskDefinitionArn: z.string(),
  family: z.string(),
  containerDefinitions: z.array(z.looseObject({ name: z.string(), image: z.string() })).min(1),
});

const taskSchema = z.looseObject({
  taskArn: z.string(),
  taskDefinitionArn: z.string(),
  lastStatus: z.string(),
  attachments: z
    .array(z.looseObject({ type: z.string().optional(), details: z.array(z.looseObject({ name: z.string().optional(), value: z.string().optional() })).optional() }))
    .default([]),
});

/**
 * Deploys a group that runs as an ECS service: a new task-definition revision with the image (the rest
 * of the definition copied, the version variable kept in step with the tag), UpdateService, then the
 * PRIMARY deployment's rollout state. Instances are the running tasks of the service's task definition.
 * With `allowedImageRepositories` (the fleet inventory's) it refuses any other image before calling ECS.
 */
export class EcsDeployer implements GroupDeployer {
  constructor(
    private readonly ecs: EcsApi,
    private readonly deployment: EcsDeployment,
    private readonly allowedImageRepositories?: readonly string[],
  ) {}

  async current(): Promise<Release> {
    const definition = await this.taskDefinition((await this.service()).taskDefinition);
    const image = this.container(definition.taskDefinition).image;
    const release = parseImage(image);
    if (release === undefined) throw new UpgradeStepError('DeploymentFailed', `${this.name}: container image ${JSON.stringify(image)} has no tag to roll back to`);
    return release;
  }

  async start(release: Release): Promise<string> {
    const refusal = imageRepositoryRefusal(release.image, this.allowedImageRepositories);
    if (refusal !== undefined) throw new UpgradeStepError('InvalidInput', `${this.name}: image: ${refusal}`);
    const service = await this.service();
    const { taskDefinition, tags } = await this.taskDefinition(service.taskDefinition);
    const container = this.container(taskDefinition);
    const wanted = formatImage(release);
    const alreadyThere = container.image === wanted && versionVariable(container) === release.version;
    const targetArn = alreadyThere ? service.taskDefinition : await this.register(taskDefinition, tags, release);
    const primary = service.deployments.find((deployment) => deployment.status === 'PRIMARY');
    if (service.taskDefinition !== targetArn || primary?.taskDefinition !== targetArn) {
      await this.ecs.send(new UpdateServiceCommand({ cluster: this.deployment.cluster, service: this.deployment.service, taskDefinition: targetArn }));
    }
    return targetArn;
  }

  async status(taskDefinitionArn: string): Promise<DeploymentCheck> {
    const service = await this.service();
    const primary = service.deployments.find((deployment) => deployment.status === 'PRIMARY');
    if (primary === undefined) return { complete: false, failed: false, detail: `${this.name}: no PRIMARY deployment yet` };
    if (primary.taskDefinition !== taskDefinitionArn) {
      return {
        complete: false,
        failed: true,
        detail: `${this.name}: the service now runs ${primary.taskDefinition}, not ${taskDefinitionArn} (rolled back by the deployment circuit breaker, or changed by someone else)`,
      };
    }
    const progress = `${primary.runningCount}/${primary.desiredCount} tasks running, rollout ${primary.rolloutState ?? 'unknown'}`;
    if (primary.rolloutState === 'FAILED') return { complete: false, failed: true, detail: `${this.name}: ${progress}: ${primary.rolloutStateReason ?? 'no reason given'}` };
    const complete = primary.rolloutState === 'COMPLETED' && primary.runningCount === primary.desiredCount && service.deployments.length === 1;
    return { complete, failed: false, detail: `${this.name}: ${progress}` };
  }

  async instances(): Promise<GroupInstance[]> {
    const service = await this.service();
    const arns = await this.runningTaskArns(service.serviceName);
    const instances: GroupInstance[] = [];
    for (let start = 0; start < arns.length; start += DESCRIBE_TASKS_BATCH) {
      const reply = await this.ecs.send(new DescribeTasksCommand({ cluster: this.deployment.cluster, tasks: arns.slice(start, start + DESCRIBE_TASKS_BATCH) }));
      for (const raw of reply.tasks ?? []) {
        const task = parseReply(taskSchema, raw, `${this.name}: DescribeTasks`);
        if (task.lastStatus !== 'RUNNING' || task.taskDefinitionArn !== service.taskDefinition) continue;
        const host = privateIp(task);
        if (host === undefined) continue;
        instances.push({ id: task.taskArn, host, eslPort: this.deployment.eslPort, healthUrl: `http://${host}:${this.deployment.healthPort}/health` });
      }
    }
    return instances;
  }

  private get name(): string {
    return `ECS service ${this.deployment.service}`;
  }

  private async service(): Promise<z.output<typeof serviceSchema>> {
    const reply = await this.ecs.send(new DescribeServicesCommand({ cluster: this.deployment.cluster, services: [this.deployment.service] }));
    const [found] = reply.services ?? [];
    if (found === undefined) {
      const failure = reply.failures?.[0];
      throw new UpgradeStepError('DeploymentFailed', `${this.name} not found in cluster ${this.deployment.cluster}${failure?.reason ? ` (${failure.reason})` : ''}`);
    }
    return parseReply(serviceSchema, found, `${this.name}: DescribeServices`);
  }

  private async taskDefinition(arn: string): Promise<{ taskDefinition: TaskDefinition; tags: DescribeTaskDefinitionCommandOutput['tags'] }> {
    const reply = await this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }));
    parseReply(taskDefinitionSchema, reply.taskDefinition, `${this.name}: DescribeTaskDefinition ${arn}`);
    return { taskDefinition: reply.taskDefinition as TaskDefinition, tags: reply.tags };
  }

  private container(definition: TaskDefinition): ContainerDefinition & { image: string } {
    const container = definition.containerDefinitions?.find((candidate) => candidate.name === this.deployment.containerName);
    if (container?.image === undefined) {
      const names = (definition.containerDefinitions ?? []).map((candidate) => candidate.name).join(', ');
      throw new UpgradeStepError(
        'DeploymentFailed',
        `${this.name}: task definition ${definition.taskDefinitionArn} has no container ${JSON.stringify(this.deployment.containerName)} (containers: ${names})`,
      );
    }
    return { ...container, image: container.image };
  }

  private async register(definition: TaskDefinition, tags: DescribeTaskDefinitionCommandOutput['tags'], release: Release): Promise<string> {
    const copied = Object.fromEntries(REGISTERABLE_FIELDS.filter((field) => definition[field] !== undefined).map((field) => [field, definition[field]]));
    const containerDefinitions = (definition.containerDefinitions ?? []).map((container) =>
      container.name === this.deployment.containerName ? { ...container, image: formatImage(release), environment: withVersion(container, release.version) } : container,
    );
    const reply = await this.ecs.send(
      new RegisterTaskDefinitionCommand({ ...copied, family: definition.family, containerDefinitions, ...(tags !== undefined && tags.length > 0 ? { tags } : {}) }),
    );
    const arn = reply.taskDefinition?.taskDefinitionArn;
    if (arn === undefined) throw new UpgradeStepError('DeploymentFailed', `${this.name}: RegisterTaskDefinition returned no task definition ARN`);
    return arn;
  }

  private async runningTaskArns(serviceName: string): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecs.send(new ListTasksCommand({ cluster: this.deployment.cluster, serviceName, desiredStatus: 'RUNNING', nextToken }));
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    return arns;
  }
}

function versionVariable(container: ContainerDefinition): string | undefined {
  return container.environment?.find((variable) => variable.name === VERSION_VARIABLE)?.value;
}

function withVersion(container: ContainerDefinition, version: string): NonNullable<ContainerDefinition['environment']> {
  const others = (container.environment ?? []).filter((variable) => variable.name !== VERSION_VARIABLE);
  return [...others, { name: VERSION_VARIABLE, value: version }];
}

function privateIp(task: z.output<typeof taskSchema>): string | undefined {
  const eni = task.attachments.find((attachment) => attachment.type === 'ElasticNetworkInterface');
  return eni?.details?.find((detail) => detail.name === 'privateIPv4Address')?.value;
}

function parseReply<Schema extends z.ZodType>(schema: Schema, reply: unknown, what: string): z.output<Schema> {
  const parsed = schema.safeParse(reply);
  if (!parsed.success) throw new UpgradeStepError('DeploymentFailed', `${what}: unexpected reply: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/**
 * A hand-written stand-in for ECS at the SDK `send()` boundary. ECS cannot run locally (no emulator is
 * available to these tests), so this fake keeps services, task-definition revisions and tasks in memory
 * and answers the six commands the EcsDeployer sends with SDK-shaped replies. A deployment progresses one
 * step per DescribeServices: IN_PROGRESS with tasks starting, then COMPLETED (or FAILED when the image
 * is in `failingImages`, like the deployment circuit breaker rolling back).
 */
import {
  type ContainerDefinition,
  type Deployment,
  DescribeServicesCommand,
  type DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandOutput,
  DescribeTasksCommand,
  type DescribeTasksCommandOutput,
  ListTasksCommand,
  type ListTasksCommandOutput,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type RegisterTaskDefinitionCommandOutput,
  type Tag,
  type Task,
  type TaskDefinition,
  UpdateServiceCommand,
  type UpdateServiceCommandOutput,
} from '@aws-sdk/client-ecs';

const metadata = { $metadata: {} };

interface FakeService {
  readonly name: string;
  taskDefinition: string;
  desiredCount: number;
  deployments: Deployment[];
  /** DescribeServices calls until the rollout completes. */
  stepsLeft: number;
}

export class FakeEcs {
  readonly sent: string[] = [];
  readonly registered: RegisterTaskDefinitionCommandInput[] = [];
  readonly failingImages = new Set<string>();
  private readonly definitions = new Map<string, { definition: TaskDefinition; tags: Tag[] }>();
  private readonly services = new Map<string, FakeService>();
  private readonly tasks: Task[] = [];
  private revisions = new Map<string, number>();
  private nextIp = 10;

  constructor(private readonly cluster: string) {}

  /** A service running `desiredCount` tasks of a first revision built from `containers`. */
  addService(name: string, family: string, containers: ContainerDefinition[], desiredCount: number, tags: Tag[] = []): string {
    const arn = this.storeDefinition(
      {
        family,
        containerDefinitions: containers,
        networkMode: 'awsvpc',
        cpu: '512',
        memory: '1024',
        requiresCompatibilities: ['FARGATE'],
        executionRoleArn: 'arn:aws:iam::1:role/exec',
      },
      tags,
    );
    this.services.set(name, { name, taskDefinition: arn, desiredCount, deployments: [this.deployment(arn, desiredCount, 'COMPLETED', desiredCount)], stepsLeft: 0 });
    this.startTasks(name, arn, desiredCount);
    return arn;
  }

  send(command: DescribeServicesCommand): Promise<DescribeServicesCommandOutput>;
  send(command: DescribeTaskDefinitionCommand): Promise<DescribeTaskDefinitionCommandOutput>;
  send(command: RegisterTaskDefinitionCommand): Promise<RegisterTaskDefinitionCommandOutput>;
  send(command: UpdateServiceCommand): Promise<UpdateServiceCommandOutput>;
  send(command: ListTasksCommand): Promise<ListTasksCommandOutput>;
  send(command: DescribeTasksCommand): Promise<DescribeTasksCommandOutput>;
  async send(
    command: DescribeServicesCommand | DescribeTaskDefinitionCommand | RegisterTaskDefinitionCommand | UpdateServiceCommand | ListTasksCommand | DescribeTasksCommand,
  ): Promise<
    | DescribeServicesCommandOutput
    | DescribeTaskDefinitionCommandOutput
    | RegisterTaskDefinitionCommandOutput
    | UpdateServiceCommandOutput
    | ListTasksCommandOutput
    | DescribeTasksCommandOutput
  > {
    this.sent.push(command.constructor.name.replace(/Command$/, ''));
    if (command instanceof DescribeServicesCommand) return this.describeServices(command);
    if (command instanceof DescribeTaskDefinitionCommand) return this.describeTaskDefinition(command);
    if (command instanceof RegisterTaskDefinitionCommand) return this.register(command);
    if (command instanceof UpdateServiceCommand) return this.updateService(command);
    if (command instanceof ListTasksCommand) return this.listTasks(command);
    return this.describeTasks(command);
  }

  private describeServices(command: DescribeServicesCommand): DescribeServicesCommandOutput {
    this.requireCluster(command.input.cluster);
    const found = (command.input.services ?? []).flatMap((name) => this.services.get(name) ?? []);
    found.forEach((service) => this.progress(service));
    const missing = (command.input.services ?? []).filter((name) => !this.services.has(name));
    return {
      ...metadata,
      services: found.map((service) => ({
        serviceName: service.name,
        serviceArn: `arn:aws:ecs:us-east-1:1:service/${this.cluster}/${service.name}`,
        taskDefinition: service.taskDefinition,
        desiredCount: service.desiredCount,
        deployments: service.deployments.map((deployment) => ({ ...deployment })),
      })),
      failures: missing.map((name) => ({ arn: name, reason: 'MISSING' })),
    };
  }

  private describeTaskDefinition(command: DescribeTaskDefinitionCommand): DescribeTaskDefinitionCommandOutput {
    const stored = this.definitions.get(command.input.taskDefinition ?? '');
    if (stored === undefined) throw new Error(`ClientException: Unable to describe task definition ${command.input.taskDefinition}`);
    return { ...metadata, taskDefinition: structuredClone(stored.definition), ...(command.input.include?.includes('TAGS') ? { tags: stored.tags } : {}) };
  }

  private register(command: RegisterTaskDefinitionCommand): RegisterTaskDefinitionCommandOutput {
    this.registered.push(structuredClone(command.input));
    const { tags, ...definition } = command.input;
    const arn = this.storeDefinition(definition, tags ?? []);
    return { ...metadata, taskDefinition: this.definitions.get(arn)?.definition };
  }

  private updateService(command: UpdateServiceCommand): UpdateServiceCommandOutput {
    this.requireCluster(command.input.cluster);
    const service = this.services.get(command.input.service ?? '');
    const arn = command.input.taskDefinition;
    if (service === undefined || arn === undefined || !this.definitions.has(arn)) throw new Error('InvalidParameterException');
    const old = service.deployments.find((deployment) => deployment.status === 'PRIMARY');
    service.deployments = [this.deployment(arn, service.desiredCount, 'IN_PROGRESS', 0), ...(old ? [{ ...old, status: 'ACTIVE' }] : [])];
    service.taskDefinition = arn;
    service.stepsLeft = 2;
    return { ...metadata };
  }

  private listTasks(command: ListTasksCommand): ListTasksCommandOutput {
    const all = this.tasks.filter((task) => task.group === `service:${command.input.serviceName}` && task.desiredStatus === command.input.desiredStatus);
    const start = Number(command.input.nextToken ?? 0);
    const page = all.slice(start, start + 2);
    return { ...metadata, taskArns: page.map((task) => task.taskArn ?? ''), ...(start + 2 < all.length ? { nextToken: String(start + 2) } : {}) };
  }

  private describeTasks(command: DescribeTasksCommand): DescribeTasksCommandOutput {
    return { ...metadata, tasks: this.tasks.filter((task) => command.input.tasks?.includes(task.taskArn ?? '')).map((task) => structuredClone(task)) };
  }

  /** One step of a rollout per DescribeServices: tasks start, then the deployment completes (or fails). */
  private progress(service: FakeService): void {
    if (service.stepsLeft === 0) return;
    service.stepsLeft--;
    const primary = service.deployments[0];
    const image = this.definitions.get(primary.taskDefinition ?? '')?.definition.containerDefinitions?.[0]?.image ?? '';
    if (this.failingImages.has(image)) {
      const previous = service.deployments[1];
      service.deployments = [
        { ...previous, status: 'PRIMARY' },
        { ...primary, status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' },
      ];
      service.taskDefinition = previous.taskDefinition ?? '';
      service.stepsLeft = 0;
      return;
    }
    if (service.stepsLeft > 0) {
      primary.runningCount = service.desiredCount;
      this.startTasks(service.name, primary.taskDefinition ?? '', service.desiredCount);
      return;
    }
    primary.rolloutState = 'COMPLETED';
    service.deployments = [primary];
    this.tasks.forEach((task) => {
      if (task.group === `service:${service.name}` && task.taskDefinitionArn !== primary.taskDefinition) {
        task.lastStatus = 'STOPPED';
        task.desiredStatus = 'STOPPED';
      }
    });
  }

  private storeDefinition(input: Omit<RegisterTaskDefinitionCommandInput, 'tags'>, tags: Tag[]): string {
    const family = input.family ?? '';
    const revision = (this.revisions.get(family) ?? 0) + 1;
    this.revisions.set(family, revision);
    const arn = `arn:aws:ecs:us-east-1:1:task-definition/${family}:${revision}`;
    this.definitions.set(arn, { definition: { ...structuredClone(input), taskDefinitionArn: arn, revision, status: 'ACTIVE', registeredAt: new Date(0) } as TaskDefinition, tags });
    return arn;
  }

  private startTasks(serviceName: string, taskDefinitionArn: string, count: number): void {
    for (let index = 0; index < count; index++) {
      const ip = `10.0.1.${this.nextIp++}`;
      this.tasks.push({
        taskArn: `arn:aws:ecs:us-east-1:1:task/${this.cluster}/${serviceName}-${ip}`,
        taskDefinitionArn,
        group: `service:${serviceName}`,
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        attachments: [
          {
            type: 'ElasticNetworkInterface',
            status: 'ATTACHED',
            details: [
              { name: 'subnetId', value: 'subnet-1' },
              { name: 'privateIPv4Address', value: ip },
            ],
          },
        ],
      });
    }
  }

  private deployment(taskDefinition: string, desiredCount: number, rolloutState: 'IN_PROGRESS' | 'COMPLETED', runningCount: number): Deployment {
    return { id: `ecs-svc/${taskDefinition.split(':').pop()}`, status: 'PRIMARY', taskDefinition, desiredCount, runningCount, rolloutState };
  }

  private requireCluster(cluster: string | undefined): void {
    if (cluster !== this.cluster) throw new Error(`ClusterNotFoundException: ${cluster}`);
  }
}

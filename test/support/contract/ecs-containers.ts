import type { SynthesizedStack } from './synthesized-stacks';

/** The fields of an ECS container definition that decide how its container starts, is checked and stops. */
export interface ContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly entryPoint?: readonly string[];
  readonly command?: readonly string[];
  readonly environment?: readonly { readonly name: string; readonly value: string }[];
  readonly secrets?: readonly { readonly name: string; readonly valueFrom: string }[];
  readonly healthCheck?: { readonly command: readonly string[]; readonly interval?: number; readonly timeout?: number; readonly retries?: number; readonly startPeriod?: number };
  readonly stopTimeout?: number;
  readonly readonlyRootFilesystem?: boolean;
  readonly user?: string;
}

export interface SynthesizedContainer {
  readonly stack: SynthesizedStack;
  readonly family: string;
  /** `unknown:aws_iam_role.X.arn` (see synthesizedStacks). */
  readonly taskRoleArn: string;
  readonly definition: ContainerDefinition;
}

/** Every container of every `aws_ecs_task_definition` the stacks define. */
export function synthesizedContainers(stacks: readonly SynthesizedStack[]): SynthesizedContainer[] {
  return stacks.flatMap((stack) =>
    stack.resources<{ family: string; task_role_arn: string; container_definitions: string }>('aws_ecs_task_definition').flatMap(([, task]) =>
      (JSON.parse(task.container_definitions) as ContainerDefinition[]).map((definition) => ({ stack, family: task.family, taskRoleArn: task.task_role_arn, definition })),
    ),
  );
}

/** ECS health-check defaults (seconds), and the argv it runs: `CMD` executes directly, `CMD-SHELL` through `sh -c`. */
export function healthCheckRun(check: NonNullable<ContainerDefinition['healthCheck']>): { argv: string[]; timeoutSeconds: number; deadlineMs: number } {
  const [kind, ...rest] = check.command;
  const argv = kind === 'CMD-SHELL' ? ['sh', '-c', rest.join(' ')] : kind === 'CMD' ? [...rest] : undefined;
  if (!argv || argv.length === 0) throw new Error(`health check command must start with CMD or CMD-SHELL, got ${JSON.stringify(check.command)}`);
  const interval = check.interval ?? 30;
  const timeoutSeconds = check.timeout ?? 5;
  // ECS marks the container unhealthy after the start period plus `retries` failed checks.
  const deadlineMs = ((check.startPeriod ?? 0) + interval * (check.retries ?? 3)) * 1000;
  return { argv, timeoutSeconds, deadlineMs };
}

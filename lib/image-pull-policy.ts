import type { PolicyStatement } from './iam-policy';

/**
 * What an ECS task execution role needs to pull images from the allowed repositories, and no more: pulls only from
 * the private ECR repositories among them. Other registries (public.ecr.aws, Docker Hub, ...) are pulled without IAM,
 * so IAM cannot narrow them: the orchestrator's allow-list check is what keeps them out.
 */

const PRIVATE_ECR = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/(.+)$/;

/** The ARN of a private ECR repository (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`), or undefined for any other registry. */
export function ecrRepositoryArn(repository: string): string | undefined {
  const match = PRIVATE_ECR.exec(repository);
  if (match === null) return undefined;
  const [, account, region, china, name] = match;
  const partition = china !== undefined ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:ecr:${region}:${account}:repository/${name}`;
}

/** Pull statements for the private ECR repositories among `repositories`; none when there are none. */
export function imagePullStatements(repositories: readonly string[]): PolicyStatement[] {
  const arns = [...new Set(repositories.flatMap((repository) => ecrRepositoryArn(repository) ?? []))];
  if (arns.length === 0) return [];
  return [
    // The registry login token names no repository: ECR offers no resource scoping for it.
    { actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
    { actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], resources: arns },
  ];
}

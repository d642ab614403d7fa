import { exampleTopology, topologyIssues } from '../support/topology-issues';
import * as path from 'path';
import { parseTopology, type TopologyInput } from '../../lib';
import { ecrRepositoryArn } from '../../lib/image-pull-policy';
import { parseFleetInventory } from '../../runtime/upgrade/inventory/fleet-inventory';
import { buildPlatform } from '../../stacks/platform';
import { App } from 'cdktf';
import { readStackJson, synthPlatform } from '../support/synth-platform';

const PUBLIC = 'public.ecr.aws/voiceplane/call-control';
const PRIVATE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voiceplane/call-control';


/** The example with every group on `image` and the given allow-list. */
function topologyWith(image: string, allowedImageRepositories?: string[]): TopologyInput {
  const input = exampleTopology();
  input.sites.forEach((site) => site.mediaServers.forEach((server) => server.callControl.groups.forEach((group) => (group.image = image))));
  return allowedImageRepositories === undefined ? input : { ...input, allowedImageRepositories };
}

interface Statement {
  Action: string[];
  Resource: string[];
}
type Resources = Record<string, Record<string, Record<string, unknown>>>;

function dataCenterResources(input: TopologyInput): Resources {
  const stacks = synthPlatform(parseTopology(input), 'aws').stackDirs;
  return (JSON.parse(readStackJson(stacks['acme-dc-east'])) as { resource: Resources }).resource;
}

/** The statements of the call-control tasks' execution role (the role ECS pulls images with). */
function executionRoleStatements(resource: Resources): Statement[] {
  const [roleAddress] = Object.entries(resource.aws_iam_role).find(([, role]) => String(role.name_prefix).includes('-exec-'))!;
  const policies = Object.values(resource.aws_iam_role_policy).filter((policy) => policy.role === `\${aws_iam_role.${roleAddress}.id}`);
  return policies.flatMap((policy) => (JSON.parse(String(policy.policy)) as { Statement: Statement[] }).Statement);
}

describe('the topology allow-list of image repositories', () => {
  it('refuses a group whose image it does not list, naming the group', () => {
    const input = topologyWith(PUBLIC, [PRIVATE]);
    const issues = topologyIssues(input);
    expect(issues).toContain(`sites[0].mediaServers[0].callControl.groups[0].image: "${PUBLIC}" is not in allowedImageRepositories`);
    expect(issues).toHaveLength(8);
  });

  it('refuses a malformed or repeated entry, naming it', () => {
    expect(topologyIssues(topologyWith(PUBLIC, [PUBLIC, `${PUBLIC}:1.0`]))).toEqual([`allowedImageRepositories[1]: "${PUBLIC}:1.0" must not include a tag (":1.0"); give the tag as version`]);
    expect(topologyIssues(topologyWith(PUBLIC, [PUBLIC, PUBLIC]))).toEqual([`allowedImageRepositories[1]: "${PUBLIC}" is listed twice`]);
    expect(topologyIssues(topologyWith(PUBLIC, []))).toEqual(['allowedImageRepositories: must name at least one image repository']);
  });

  it("ships it with the orchestrator's step functions: the listed repositories, by default those of the groups", () => {
    const shipped = (input: TopologyInput) => {
      const app = new App({ outdir: path.join(require('os').tmpdir(), `voiceplane-allow-list-${process.pid}`) });
      return parseFleetInventory(buildPlatform(app, parseTopology(input), 'aws').dataCenterStacks[0].dataCenter.orchestrator.fleetInventory).allowedImageRepositories;
    };
    expect(shipped(exampleTopology())).toEqual([PUBLIC]);
    expect(shipped(topologyWith(PRIVATE, [PRIVATE, PUBLIC]))).toEqual([PRIVATE, PUBLIC]);
  });
});

describe('the call-control tasks pull images only from the allowed private ECR repositories', () => {
  it('maps a private ECR repository to its ARN, and any other registry to none (IAM cannot scope those pulls)', () => {
    expect(ecrRepositoryArn(PRIVATE)).toBe('arn:aws:ecr:us-east-1:123456789012:repository/voiceplane/call-control');
    expect(ecrRepositoryArn('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/cc')).toBe('arn:aws-cn:ecr:cn-north-1:123456789012:repository/cc');
    expect(ecrRepositoryArn('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/cc')).toBe('arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/cc');
    expect(ecrRepositoryArn(PUBLIC)).toBeUndefined();
    expect(ecrRepositoryArn('docker.io/library/node')).toBeUndefined();
  });

  it('grants ECR pulls on the listed private repositories only, and no AWS managed execution policy', () => {
    const resource = dataCenterResources(topologyWith(PRIVATE, [PRIVATE, PUBLIC]));
    expect(Object.values(resource.aws_iam_role_policy_attachment ?? {}).map((attachment) => attachment.policy_arn)).not.toContain(
      'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
    );
    const statements = executionRoleStatements(resource);
    const pulls = statements.filter((statement) => statement.Action.some((action) => action.startsWith('ecr:')));
    expect(pulls).toEqual([
      { Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
      { Effect: 'Allow', Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], Resource: ['arn:aws:ecr:us-east-1:123456789012:repository/voiceplane/call-control'] },
    ]);
    const logs = statements.find((statement) => statement.Action.includes('logs:PutLogEvents'))!;
    expect(logs.Resource).toHaveLength(8);
    expect(logs.Resource.every((arn) => /^\$\{aws_cloudwatch_log_group\.[^}]+\.arn\}:\*$/.test(arn))).toBe(true);
  });

  it('grants no ECR permission at all when no allowed repository is private ECR', () => {
    const statements = executionRoleStatements(dataCenterResources(exampleTopology()));
    expect(statements.flatMap((statement) => statement.Action).filter((action) => action.startsWith('ecr:'))).toEqual([]);
  });
});

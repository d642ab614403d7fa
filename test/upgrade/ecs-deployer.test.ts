/**
 * EcsDeployer against a hand-written fake ECS at the SDK send() boundary (test/support/upgrade/fake-ecs.ts):
 * ECS cannot run locally, so this is the one deployer test that does not run the real thing.
 */
import { EcsDeployer } from '../../runtime/upgrade/deployers/ecs-deployer';
import { FakeEcs } from '../support/upgrade/fake-ecs';

const deployment = { kind: 'ecs' as const, region: 'us-east-1', cluster: 'dc-east', service: 'west-ms-1-blue', containerName: 'call-control', eslPort: 8084, healthPort: 8080 };
const repo = '123456789012.dkr.ecr.us-east-1.amazonaws.com/call-control';
const containers = [
  {
    name: 'call-control',
    image: `${repo}:1.0.0`,
    essential: true,
    environment: [
      { name: 'CALL_CONTROL_GROUP', value: 'blue' },
      { name: 'CALL_CONTROL_VERSION', value: '1.0.0' },
    ],
    portMappings: [{ containerPort: 8084 }],
  },
  { name: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable', essential: false },
];

function setUp(desiredCount = 2) {
  const ecs = new FakeEcs('dc-east');
  const firstArn = ecs.addService('west-ms-1-blue', 'west-ms-1-blue', structuredClone(containers), desiredCount, [{ key: 'component', value: 'call-control' }]);
  return { ecs, firstArn, deployer: new EcsDeployer(ecs, deployment) };
}

async function rollOut(deployer: EcsDeployer, arn: string) {
  const seen = [];
  for (let step = 0; step < 10; step++) {
    const check = await deployer.status(arn);
    seen.push(check);
    if (check.complete || check.failed) break;
  }
  return seen;
}

describe('EcsDeployer (fake ECS at the SDK send() boundary)', () => {
  it('reads the running release from the service task definition', async () => {
    const { deployer } = setUp();
    expect(await deployer.current()).toEqual({ image: repo, version: '1.0.0' });
  });

  it('registers a revision with the new image and version, copying the rest, then updates the service', async () => {
    const { ecs, deployer } = setUp();
    const arn = await deployer.start({ image: repo, version: '1.1.0' });
    expect(arn).toBe('arn:aws:ecs:us-east-1:1:task-definition/west-ms-1-blue:2');
    const [registered] = ecs.registered;
    expect(registered).toMatchObject({
      family: 'west-ms-1-blue',
      networkMode: 'awsvpc',
      cpu: '512',
      memory: '1024',
      requiresCompatibilities: ['FARGATE'],
      executionRoleArn: 'arn:aws:iam::1:role/exec',
      tags: [{ key: 'component', value: 'call-control' }],
    });
    expect(registered.containerDefinitions?.[0]).toEqual({
      ...containers[0],
      image: `${repo}:1.1.0`,
      environment: [
        { name: 'CALL_CONTROL_GROUP', value: 'blue' },
        { name: 'CALL_CONTROL_VERSION', value: '1.1.0' },
      ],
    });
    expect(registered.containerDefinitions?.[1]).toEqual(containers[1]);
    expect(registered).not.toHaveProperty('taskDefinitionArn');
    expect(registered).not.toHaveProperty('revision');
    expect(ecs.sent).toEqual(['DescribeServices', 'DescribeTaskDefinition', 'RegisterTaskDefinition', 'UpdateService']);

    const checks = await rollOut(deployer, arn);
    expect(checks[0]).toEqual({ complete: false, failed: false, detail: 'ECS service west-ms-1-blue: 2/2 tasks running, rollout IN_PROGRESS' });
    expect(checks[checks.length - 1]).toEqual({ complete: true, failed: false, detail: 'ECS service west-ms-1-blue: 2/2 tasks running, rollout COMPLETED' });
    expect(await deployer.current()).toEqual({ image: repo, version: '1.1.0' });
  });

  it('starting the release that is already rolling out registers nothing and updates nothing', async () => {
    const { ecs, deployer } = setUp();
    const arn = await deployer.start({ image: repo, version: '1.1.0' });
    ecs.sent.length = 0;
    expect(await deployer.start({ image: repo, version: '1.1.0' })).toBe(arn);
    expect(ecs.sent).toEqual(['DescribeServices', 'DescribeTaskDefinition']);
    expect(ecs.registered).toHaveLength(1);
  });

  it('reports a rollout the circuit breaker rolled back as failed', async () => {
    const { ecs, deployer, firstArn } = setUp();
    ecs.failingImages.add(`${repo}:6.6.6`);
    const arn = await deployer.start({ image: repo, version: '6.6.6' });
    const [check] = await rollOut(deployer, arn);
    expect(check.failed).toBe(true);
    expect(check.detail).toBe(
      `ECS service west-ms-1-blue: the service now runs ${firstArn}, not ${arn} (rolled back by the deployment circuit breaker, or changed by someone else)`,
    );
  });

  it('lists the running tasks of the current task definition with their private IPs (paginated)', async () => {
    const { deployer } = setUp(3);
    const before = await deployer.instances();
    expect(before.map((instance) => [instance.host, instance.eslPort, instance.healthUrl])).toEqual([
      ['10.0.1.10', 8084, 'http://10.0.1.10:8080/health'],
      ['10.0.1.11', 8084, 'http://10.0.1.11:8080/health'],
      ['10.0.1.12', 8084, 'http://10.0.1.12:8080/health'],
    ]);
    const arn = await deployer.start({ image: repo, version: '1.1.0' });
    await rollOut(deployer, arn);
    expect((await deployer.instances()).map((instance) => instance.host)).toEqual(['10.0.1.13', '10.0.1.14', '10.0.1.15']);
  });

  it('fails clearly for a missing service or container', async () => {
    const { ecs } = setUp();
    await expect(new EcsDeployer(ecs, { ...deployment, service: 'nope' }).current()).rejects.toMatchObject({
      code: 'DeploymentFailed',
      message: 'ECS service nope not found in cluster dc-east (MISSING)',
    });
    await expect(new EcsDeployer(ecs, { ...deployment, containerName: 'app' }).start({ image: repo, version: '2.0.0' })).rejects.toThrow(
      'has no container "app" (containers: call-control, log-router)',
    );
  });
});

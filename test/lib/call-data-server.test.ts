import { TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { CallDataServer, type CallDataServerProps } from '../../lib/call-data-server';

type Resources = Record<string, Record<string, Record<string, unknown>>>;

const props: CallDataServerProps = {
  name: 'acme-site-west',
  siteId: 'west',
  region: 'us-west-2',
  vpcId: 'vpc-0123',
  vpcCidr: '10.1.0.0/16',
  subnetIds: ['subnet-a', 'subnet-b'],
  runtimeImage: 'public.ecr.aws/voiceplane/runtime:0.1.0',
  archiveTableName: 'acme-dc-east-cdr-archive',
  archiveTableArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/acme-dc-east-cdr-archive',
  peers: [
    { siteId: 'frankfurt', vpcCidr: '10.2.0.0/16', url: 'http://cds.frankfurt.acme.internal:7070' },
    { siteId: 'tokyo', vpcCidr: '10.3.0.0/16' },
  ],
  mediaServerEventSockets: ['10.1.128.10:8021', '10.1.144.11:8021'],
  eslSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:acme/esl/west-AbCdEf',
};

function synthesized(serverProps: CallDataServerProps = props) {
  const stack = new TerraformStack(Testing.app(), 'test');
  new AwsProvider(stack, 'aws', { region: 'us-west-2' });
  new CallDataServer(stack, 'CallDataServer', serverProps);
  const json = Testing.synth(stack);
  const resources = JSON.parse(json).resource as Resources;
  const all = (type: string) => Object.values(resources[type] ?? {});
  const container = () => JSON.parse(String(all('aws_ecs_task_definition')[0].container_definitions))[0] as Record<string, unknown>;
  const policies = () => all('aws_iam_role_policy').map((policy) => JSON.parse(String(policy.policy)) as { Statement: Array<{ Action: string[]; Resource: string[] }> });
  return { json, resources, all, container, policies };
}

describe('CallDataServer', () => {
  it('runs one `cds serve` task from the runtime image, never two at once', () => {
    const { all, container } = synthesized();
    expect(all('aws_ecs_service')).toEqual([expect.objectContaining({ desired_count: 1, launch_type: 'FARGATE', deployment_minimum_healthy_percent: 0, deployment_maximum_percent: 100 })]);
    expect(container()).toMatchObject({
      image: 'public.ecr.aws/voiceplane/runtime:0.1.0',
      command: [
        ...['cds', 'serve', '--site', 'west', '--listen', '0.0.0.0:7070', '--table', expect.any(String), '--archive-table', 'acme-dc-east-cdr-archive'],
        ...['--peer', 'frankfurt=http://cds.frankfurt.acme.internal:7070', '--media-server', '10.1.128.10:8021', '--media-server', '10.1.144.11:8021'],
      ],
      healthCheck: { command: ['CMD', 'node', '-e', expect.stringContaining('/health')] },
    });
  });

  it('creates the shared peer key secret without a value, and hands it to the task through ECS', () => {
    const { resources, all, container, policies } = synthesized();
    expect(all('aws_secretsmanager_secret')).toEqual([expect.objectContaining({ name: 'acme-site-west-cds-peer-key', recovery_window_in_days: 7 })]);
    expect(resources.aws_secretsmanager_secret_version).toBeUndefined();
    const secrets = container().secrets as Array<{ name: string; valueFrom: string }>;
    expect(secrets.map((secret) => secret.name)).toEqual(['VOICEPLANE_CDS_PEER_KEY', 'VOICEPLANE_ESL_PASSWORD']);
    expect(secrets[1].valueFrom).toBe(props.eslSecretArn);
    const readsSecrets = policies().flatMap((policy) => policy.Statement).find((statement) => statement.Action.includes('secretsmanager:GetSecretValue'));
    expect(readsSecrets?.Resource).toEqual([secrets[0].valueFrom, props.eslSecretArn]);
  });

  it('scopes the task role to its table and the archive', () => {
    const { policies } = synthesized();
    const statements = policies().flatMap((policy) => policy.Statement).filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));
    expect(statements.map((statement) => statement.Resource)).toEqual([[expect.stringMatching(/aws_dynamodb_table\.\w+\.arn/)], [props.archiveTableArn]]);
    expect(statements.flatMap((statement) => statement.Action).every((action) => !action.endsWith('*') && action !== 'dynamodb:Scan' && action !== 'dynamodb:DeleteTable')).toBe(true);
    expect(statements[1].Action.sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  it('admits the API from its own VPC and the peer API from each peer VPC, on the CDS port only', () => {
    const { all } = synthesized();
    const ingress = all('aws_vpc_security_group_ingress_rule').map((rule) => `${rule.ip_protocol}/${rule.from_port}-${rule.to_port} ${rule.cidr_ipv4}`);
    expect(ingress.sort()).toEqual(['tcp/7070-7070 10.1.0.0/16', 'tcp/7070-7070 10.2.0.0/16', 'tcp/7070-7070 10.3.0.0/16']);
  });

  it('keeps working without peers or media servers', () => {
    const { all, container } = synthesized({ ...props, peers: undefined, mediaServerEventSockets: undefined, eslSecretArn: undefined });
    expect(all('aws_vpc_security_group_ingress_rule')).toHaveLength(1);
    expect((container().secrets as unknown[]).length).toBe(1);
    expect(container().command).toEqual(['cds', 'serve', '--site', 'west', '--listen', '0.0.0.0:7070', '--table', expect.any(String), '--archive-table', 'acme-dc-east-cdr-archive']);
  });

  it('refuses inconsistent peers and media servers without the password secret', () => {
    expect(() => synthesized({ ...props, peers: [{ siteId: 'west', vpcCidr: '10.9.0.0/16' }] })).toThrow('peers of site west include the site itself');
    expect(() => synthesized({ ...props, peers: [props.peers![0], props.peers![0]] })).toThrow('peers of site west name frankfurt twice');
    expect(() => synthesized({ ...props, peers: [{ siteId: 'tokyo', vpcCidr: '10.1.0.0/16' }] })).toThrow('peer tokyo has the VPC CIDR of site west (10.1.0.0/16)');
    expect(() => synthesized({ ...props, peers: [{ siteId: 'tokyo', vpcCidr: '10.3.0.0/16', url: 'cds.tokyo:7070' }] })).toThrow('peer tokyo url must be http(s)://HOST[:PORT], got "cds.tokyo:7070"');
    expect(() => synthesized({ ...props, eslSecretArn: undefined })).toThrow('eslSecretArn is required with mediaServerEventSockets (site west)');
  });
});

import { TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { CallDataServer, cdsPeerUrls, type CallDataServerProps } from '../../lib/call-data-server';
import { placeMediaServer, planCdsEndpoint, planSubnets } from '../../runtime/net/network-plan';
import { cidrsOverlap } from '../../runtime/net/ipv4';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoCallArchive } from '../../runtime/cds/store/call-archive';
import type { CallEntry } from '../../runtime/cds/call/call-entries';
import { unallowedDynamoCalls } from '../support/contract/iam-policies';
import { startRegionalDynamoDb } from '../support/contract/regional-dynamodb';
import { testPublicKeyText } from '../support/cds/test-identities';
import type { SynthesizedStack } from '../support/contract/synthesized-stacks';

type Resources = Record<string, Record<string, Record<string, unknown>>>;

const props: CallDataServerProps = {
  name: 'acme-site-west',
  siteId: 'west',
  region: 'us-west-2',
  vpcId: 'vpc-0123',
  vpcCidr: '10.1.0.0/16',
  subnetIds: ['subnet-a', 'subnet-b'],
  availabilityZones: ['us-west-2a', 'us-west-2b'],
  runtimeImage: 'public.ecr.aws/voiceplane/runtime:0.1.0',
  archiveTableArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/acme-dc-east-cdr-archive',
  peers: [
    { siteId: 'frankfurt', vpcCidr: '10.2.0.0/16', urls: cdsPeerUrls('10.2.0.0/16', ['eu-central-1a', 'eu-central-1b']), publicKey: testPublicKeyText('frankfurt') },
    { siteId: 'tokyo', vpcCidr: '10.3.0.0/16', publicKey: testPublicKeyText('tokyo') },
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
  const byKey = (type: string) => resources[type] ?? {};
  /** How the synthesized JSON refers to the id of the construct's security group `id`. */
  const securityGroupReference = (id: string) => {
    const key = Object.keys(byKey('aws_security_group')).find((candidate) => new RegExp(`^CallDataServer_${id}_[0-9A-F]+$`).test(candidate));
    if (!key) throw new Error(`no security group ${id}`);
    return `\${aws_security_group.${key}.id}`;
  };
  const container = () => JSON.parse(String(all('aws_ecs_task_definition')[0].container_definitions))[0] as Record<string, unknown>;
  const policies = () => all('aws_iam_role_policy').map((policy) => JSON.parse(String(policy.policy)) as { Statement: Array<{ Effect: 'Allow' | 'Deny'; Action: string[]; Resource: string[]; Condition?: Record<string, Record<string, string[]>> }> });
  return { json, resources, all, byKey, securityGroupReference, container, policies };
}

describe('CallDataServer', () => {
  it('runs one `cds serve` task from the runtime image, never two at once', () => {
    const { all, container } = synthesized();
    expect(all('aws_ecs_service')).toEqual([expect.objectContaining({ desired_count: 1, launch_type: 'FARGATE', deployment_minimum_healthy_percent: 0, deployment_maximum_percent: 100 })]);
    expect(container()).toMatchObject({
      image: 'public.ecr.aws/voiceplane/runtime:0.1.0',
      command: [
        ...['cds', 'serve', '--site', 'west', '--listen', '0.0.0.0:7070', '--peer-listen', '0.0.0.0:7071', '--dynamodb-endpoint', 'aws', '--table', expect.any(String), '--archive-table', props.archiveTableArn],
        ...['--peer', 'frankfurt=http://10.2.0.6:7071,http://10.2.16.6:7071'],
        ...['--peer-public-key', `frankfurt=${testPublicKeyText('frankfurt')}`, '--peer-public-key', `tokyo=${testPublicKeyText('tokyo')}`],
        ...['--media-server', '10.1.128.10:8021', '--media-server', '10.1.144.11:8021'],
      ],
      portMappings: [
        { containerPort: 7070, protocol: 'tcp' },
        { containerPort: 7071, protocol: 'tcp' },
      ],
      healthCheck: { command: ['CMD', 'node', '-e', expect.stringContaining('/health')] },
    });
  });

  it('creates the local API token secret without a value, and hands it to the task through ECS', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    new AwsProvider(stack, 'aws', { region: 'us-west-2' });
    const server = new CallDataServer(stack, 'CallDataServer', props);
    expect(server.localTokenSecretArn).toMatch(/^\$\{TfToken\[/);
    const { resources, all, container, policies } = synthesized();
    const tokenSecrets = Object.entries(resources.aws_secretsmanager_secret ?? {}).filter(([, secret]) => secret.name === 'acme-site-west-cds-local-token');
    expect(tokenSecrets).toEqual([[expect.stringMatching(/^CallDataServer_LocalToken_/), expect.objectContaining({ recovery_window_in_days: 7 })]]);
    expect(resources.aws_secretsmanager_secret_version).toBeUndefined();
    const secrets = container().secrets as Array<{ name: string; valueFrom: string }>;
    const token = secrets.find((secret) => secret.name === 'VOICEPLANE_CDS_LOCAL_TOKEN');
    expect(token?.valueFrom).toBe(`\${aws_secretsmanager_secret.${tokenSecrets[0][0]}.arn}`);
    const readsSecrets = policies().flatMap((policy) => policy.Statement).find((statement) => statement.Action.includes('secretsmanager:GetSecretValue'));
    expect(readsSecrets?.Resource).toContain(token?.valueFrom);
    expect(JSON.stringify(all('aws_ecs_task_definition'))).not.toMatch(/secret_string|local-token"\s*:/);
  });

  it('creates the shared peer key secret without a value, and hands it to the task through ECS', () => {
    const { resources, all, container, policies } = synthesized();
    expect(all('aws_secretsmanager_secret').map((secret) => secret.name).sort()).toEqual(['acme-site-west-cds-local-token', 'acme-site-west-cds-peer-key']);
    expect(all('aws_secretsmanager_secret')).toContainEqual(expect.objectContaining({ name: 'acme-site-west-cds-peer-key', recovery_window_in_days: 7 }));
    expect(resources.aws_secretsmanager_secret_version).toBeUndefined();
    const secrets = container().secrets as Array<{ name: string; valueFrom: string }>;
    expect(secrets.map((secret) => secret.name)).toEqual(['VOICEPLANE_CDS_LOCAL_TOKEN', 'VOICEPLANE_CDS_PEER_KEY', 'VOICEPLANE_ESL_PASSWORD']);
    expect(secrets[2].valueFrom).toBe(props.eslSecretArn);
    const readsSecrets = policies().flatMap((policy) => policy.Statement).find((statement) => statement.Action.includes('secretsmanager:GetSecretValue'));
    expect(readsSecrets?.Resource).toEqual(secrets.map((secret) => secret.valueFrom));
  });

  it('scopes the task role to its table and the archive', () => {
    const { policies } = synthesized();
    const statements = policies().flatMap((policy) => policy.Statement).filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));
    expect(statements.map((statement) => statement.Resource)).toEqual([[expect.stringMatching(/aws_dynamodb_table\.\w+\.arn/)], [props.archiveTableArn], [props.archiveTableArn]]);
    expect(statements.flatMap((statement) => statement.Action).every((action) => !action.endsWith('*') && action !== 'dynamodb:Scan' && action !== 'dynamodb:DeleteTable')).toBe(true);
    // DescribeTable: the node checks at start that the archive exists.
    expect(statements[1]).toEqual({ Effect: 'Allow', Action: ['dynamodb:DescribeTable'], Resource: [props.archiveTableArn] });
  });

  it("lets a site write only its own calls' records to the shared archive", () => {
    const { policies } = synthesized();
    const archiveItems = policies()
      .flatMap((policy) => policy.Statement)
      .filter((statement) => statement.Resource.includes(props.archiveTableArn) && !statement.Action.includes('dynamodb:DescribeTable'));
    expect(archiveItems).toEqual([
      {
        Effect: 'Allow',
        // No BatchWriteItem: every archive write is conditional, so a site cannot overwrite what is archived.
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: [props.archiveTableArn],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CALL#west:*'] } },
      },
    ]);
  });

  it("admits the archive calls of the site's own calls, and none that writes another site's call", async () => {
    const { policies } = synthesized();
    const statements = policies().flatMap((policy) => policy.Statement);
    const archiveTable = { name: 'acme-dc-east-cdr-archive', hash_key: 'pk', range_key: 'sk', billing_mode: 'PAY_PER_REQUEST' as const, attribute: [{ name: 'pk', type: 'S' as const }, { name: 'sk', type: 'S' as const }] };
    const dynamo = await startRegionalDynamoDb([{ stack: 'dc-east', region: 'us-east-1', config: archiveTable }]);
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'contract', secretAccessKey: 'contract' } }));
    // Only the archive's ARN is granted here: the stack's references are not resolved.
    const stack: SynthesizedStack = { name: 'test', dir: '', region: 'us-west-2', resources: () => [] };
    try {
      const archive = new DynamoCallArchive(client, archiveTable.name);
      const entries: CallEntry[] = [{ kind: 'property', name: 'hangupCause', value: 'NORMAL_CLEARING', ts: 20, site: 'west', recordedTs: 20 }];
      await archive.archive('west:own', 'west', 30, entries);
      await archive.amend('west:own', 'west', 30, entries);
      expect(unallowedDynamoCalls(stack, statements, dynamo.calls())).toEqual([]);
      await archive.archive('east:foreign', 'west', 30, entries);
      expect(unallowedDynamoCalls(stack, statements, dynamo.calls())).toEqual([
        'dynamodb:GetItem on acme-dc-east-cdr-archive in us-east-1 (keys CALL#east:foreign)',
        'dynamodb:PutItem on acme-dc-east-cdr-archive in us-east-1 (keys CALL#east:foreign)',
      ]);
    } finally {
      client.destroy();
      await dynamo.close();
    }
  });

  it('admits the local API only from the site\'s private subnets and the peer API only from each peer VPC, at the load balancer', () => {
    const { all, securityGroupReference } = synthesized();
    const rules = all('aws_vpc_security_group_ingress_rule');
    const ingress = rules.filter((rule) => rule.cidr_ipv4 !== undefined).map((rule) => `${rule.security_group_id} ${rule.ip_protocol}/${rule.from_port}-${rule.to_port} ${rule.cidr_ipv4}`);
    const loadBalancer = securityGroupReference('LoadBalancerSecurityGroup');
    // The private subnets of 10.1.0.0/16 in two zones; not the public ones (media servers, SIP nodes), not the VPC.
    expect(planSubnets(props.vpcCidr, props.availabilityZones).map((subnet) => subnet.privateCidr)).toEqual(['10.1.0.0/20', '10.1.16.0/20']);
    expect(ingress.sort()).toEqual(
      [...['10.1.0.0/20', '10.1.16.0/20'].map((cidr) => `${loadBalancer} tcp/7070-7070 ${cidr}`), ...['10.2.0.0/16', '10.3.0.0/16'].map((cidr) => `${loadBalancer} tcp/7071-7071 ${cidr}`)].sort(),
    );
  });

  it('admits the local API from the given localClientCidrs instead, and refuses malformed ones', () => {
    const { all } = synthesized({ ...props, localClientCidrs: ['10.1.40.0/24'] });
    const local = all('aws_vpc_security_group_ingress_rule').filter((rule) => rule.from_port === 7070 && rule.cidr_ipv4 !== undefined);
    expect(local.map((rule) => rule.cidr_ipv4)).toEqual(['10.1.40.0/24']);
    expect(() => synthesized({ ...props, localClientCidrs: [] })).toThrow('localClientCidrs must name at least one network (site west)');
    expect(() => synthesized({ ...props, localClientCidrs: ['10.1.40.0'] })).toThrow('localClientCidrs must be IPv4 CIDRs, got "10.1.40.0" (site west)');
    expect(() => synthesized({ ...props, localClientCidrs: ['10.1.40.0/24', '10.1.40.0/24'] })).toThrow('localClientCidrs name a network twice (site west)');
  });

  it('puts the task behind an internal network load balancer at the planned private addresses', () => {
    const { all, byKey, securityGroupReference } = synthesized();
    const planned = planCdsEndpoint(props.vpcCidr, props.availabilityZones).map((address) => address.privateIp);
    expect(planned).toEqual(['10.1.0.6', '10.1.16.6']);
    const [loadBalancer] = all('aws_lb');
    expect(all('aws_lb')).toHaveLength(1);
    expect(loadBalancer).toMatchObject({
      name: 'acme-site-west-cds',
      internal: true,
      load_balancer_type: 'network',
      enable_cross_zone_load_balancing: true,
      security_groups: [securityGroupReference('LoadBalancerSecurityGroup')],
    });
    expect(loadBalancer.subnets).toBeUndefined();
    expect(loadBalancer.subnet_mapping).toEqual([
      { subnet_id: 'subnet-a', private_ipv4_address: '10.1.0.6' },
      { subnet_id: 'subnet-b', private_ipv4_address: '10.1.16.6' },
    ]);

    // One listener and target group per API, each health-checked on its own port; the local API's keep their ids.
    const targetGroups = byKey('aws_lb_target_group');
    const targetGroupKey = (id: string) => Object.keys(targetGroups).find((key) => new RegExp(`^CallDataServer_${id}_[0-9A-F]+$`).test(key)) ?? `no ${id}`;
    for (const [id, port] of [['TargetGroup', 7070], ['PeerTargetGroup', 7071]] as const) {
      expect(targetGroups[targetGroupKey(id)]).toMatchObject({ target_type: 'ip', protocol: 'TCP', port, vpc_id: 'vpc-0123', health_check: { protocol: 'HTTP', path: '/health', port: String(port) } });
    }
    const listeners = byKey('aws_lb_listener');
    const listenerKeys = ['Listener', 'PeerListener'].map((id) => Object.keys(listeners).find((key) => new RegExp(`^CallDataServer_${id}_[0-9A-F]+$`).test(key)) ?? `no ${id}`);
    expect(listenerKeys.map((key) => listeners[key])).toEqual([
      expect.objectContaining({ protocol: 'TCP', port: 7070, load_balancer_arn: expect.stringMatching(/^\$\{aws_lb\.\w+\.arn\}$/), default_action: [{ type: 'forward', target_group_arn: `\${aws_lb_target_group.${targetGroupKey('TargetGroup')}.arn}` }] }),
      expect.objectContaining({ protocol: 'TCP', port: 7071, load_balancer_arn: expect.stringMatching(/^\$\{aws_lb\.\w+\.arn\}$/), default_action: [{ type: 'forward', target_group_arn: `\${aws_lb_target_group.${targetGroupKey('PeerTargetGroup')}.arn}` }] }),
    ]);

    const [service] = all('aws_ecs_service');
    expect(service.load_balancer).toEqual([
      { target_group_arn: `\${aws_lb_target_group.${targetGroupKey('TargetGroup')}.arn}`, container_name: 'cds', container_port: 7070 },
      { target_group_arn: `\${aws_lb_target_group.${targetGroupKey('PeerTargetGroup')}.arn}`, container_name: 'cds', container_port: 7071 },
    ]);
    expect(service.depends_on).toEqual(listenerKeys.map((key) => `aws_lb_listener.${key}`));
  });

  it('exposes the peer URLs and the load balancer, and admits only the load balancer at the task', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    new AwsProvider(stack, 'aws', { region: 'us-west-2' });
    const server = new CallDataServer(stack, 'CallDataServer', props);
    expect(server.peerUrls).toEqual(['http://10.1.0.6:7071', 'http://10.1.16.6:7071']);
    expect(server.endpointAddresses).toEqual(['10.1.0.6', '10.1.16.6']);

    const { all, securityGroupReference } = synthesized();
    const atTask = all('aws_vpc_security_group_ingress_rule').filter((rule) => rule.security_group_id === securityGroupReference('SecurityGroup'));
    atTask.sort((first, second) => Number(first.from_port) - Number(second.from_port));
    expect(atTask).toEqual(
      [7070, 7071].map((port) =>
        expect.objectContaining({ security_group_id: securityGroupReference('SecurityGroup'), referenced_security_group_id: securityGroupReference('LoadBalancerSecurityGroup'), from_port: port, to_port: port }),
      ),
    );
    const loadBalancerEgress = all('aws_vpc_security_group_egress_rule').filter((rule) => rule.security_group_id === securityGroupReference('LoadBalancerSecurityGroup'));
    loadBalancerEgress.sort((first, second) => Number(first.from_port) - Number(second.from_port));
    expect(loadBalancerEgress).toEqual([7070, 7071].map((port) => expect.objectContaining({ ip_protocol: 'tcp', from_port: port, to_port: port, referenced_security_group_id: securityGroupReference('SecurityGroup') })));
    expect(all('aws_vpc_security_group_ingress_rule').every((rule) => rule.cidr_ipv4 !== '0.0.0.0/0')).toBe(true);
  });

  it('keeps working without peers or media servers', () => {
    const { all, container } = synthesized({ ...props, peers: undefined, mediaServerEventSockets: undefined, eslSecretArn: undefined });
    expect(all('aws_vpc_security_group_ingress_rule').map((rule) => rule.cidr_ipv4 ?? 'load balancer').sort()).toEqual(['10.1.0.0/20', '10.1.16.0/20', 'load balancer', 'load balancer']);
    expect((container().secrets as unknown[]).length).toBe(2);
    expect(container().command).toEqual(['cds', 'serve', '--site', 'west', '--listen', '0.0.0.0:7070', '--peer-listen', '0.0.0.0:7071', '--dynamodb-endpoint', 'aws', '--table', expect.any(String), '--archive-table', props.archiveTableArn]);
  });

  it('refuses inconsistent peers and media servers without the password secret', () => {
    expect(() => synthesized({ ...props, peers: [{ siteId: 'west', vpcCidr: '10.9.0.0/16', publicKey: testPublicKeyText('west') }] })).toThrow('peers of site west include the site itself');
    expect(() => synthesized({ ...props, peers: [props.peers![0], props.peers![0]] })).toThrow('peers of site west name frankfurt twice');
    expect(() => synthesized({ ...props, peers: [{ siteId: 'tokyo', vpcCidr: '10.1.0.0/16', publicKey: testPublicKeyText('tokyo') }] })).toThrow('peer tokyo has the VPC CIDR of site west (10.1.0.0/16)');
    expect(() => synthesized({ ...props, peers: [{ siteId: 'tokyo', vpcCidr: '10.3.0.0/16', urls: ['http://10.3.0.6:7070', 'cds.tokyo:7070'], publicKey: testPublicKeyText('tokyo') }] })).toThrow('peer tokyo urls must be http(s)://HOST[:PORT], got "cds.tokyo:7070"');
    expect(() => synthesized({ ...props, peers: [{ siteId: 'tokyo', vpcCidr: '10.3.0.0/16', publicKey: 'bm90IGEga2V5' }] })).toThrow('peer tokyo publicKey must be an Ed25519 public key (base64 SPKI DER, as `voiceplane cds keygen` prints)');
    expect(() => synthesized({ ...props, eslSecretArn: undefined })).toThrow('eslSecretArn is required with mediaServerEventSockets (site west)');
    expect(() => synthesized({ ...props, availabilityZones: ['us-west-2a'] })).toThrow('subnetIds must hold one private subnet per availability zone (1), got 2 (site west)');
    expect(() => synthesized({ ...props, availabilityZones: [], subnetIds: [] })).toThrow('availabilityZones must name at least one zone (site west)');
  });
});

describe('planCdsEndpoint', () => {
  const zones = ['us-west-2a', 'us-west-2b', 'us-west-2c'];

  it('puts one fixed address in each private subnet, in zone order', () => {
    for (const vpcCidr of ['10.1.0.0/16', '10.7.4.0/22']) {
      const subnets = planSubnets(vpcCidr, zones);
      const endpoint = planCdsEndpoint(vpcCidr, zones);
      expect(endpoint.map((address) => address.availabilityZone)).toEqual(zones);
      expect(endpoint.map((address) => address.zoneIndex)).toEqual([0, 1, 2]);
      endpoint.forEach((address, index) => {
        expect(cidrsOverlap(`${address.privateIp}/32`, subnets[index].privateCidr)).toBe(true);
        expect(subnets.some((subnet) => cidrsOverlap(`${address.privateIp}/32`, subnet.publicCidr))).toBe(false);
      });
    }
    expect(planCdsEndpoint('10.1.0.0/16', zones).map((address) => address.privateIp)).toEqual(['10.1.0.6', '10.1.16.6', '10.1.32.6']);
    expect(planCdsEndpoint('10.7.4.0/22', zones).map((address) => address.privateIp)).toEqual(['10.7.4.6', '10.7.4.70', '10.7.4.134']);
  });

  it('never shares an address with a media server, and does not move when media servers are appended', () => {
    const endpoint = planCdsEndpoint('10.1.0.0/16', zones).map((address) => address.privateIp);
    // The plan takes no media servers: adding up to the maximum leaves it as it is, and never collides.
    for (const count of [1, 2, 7, 50]) {
      const mediaServers = Array.from({ length: count }, (_, index) => placeMediaServer('10.1.0.0/16', zones, index).privateIp);
      expect(endpoint.filter((address) => mediaServers.includes(address))).toEqual([]);
      expect(planCdsEndpoint('10.1.0.0/16', zones).map((address) => address.privateIp)).toEqual(endpoint);
    }
    const smallest = Array.from({ length: 50 }, (_, index) => placeMediaServer('10.7.4.0/22', ['us-west-2a'], index).privateIp);
    expect(smallest).not.toContain(planCdsEndpoint('10.7.4.0/22', ['us-west-2a'])[0].privateIp);
    expect(cdsPeerUrls('10.1.0.0/16', zones)).toEqual(['http://10.1.0.6:7071', 'http://10.1.16.6:7071', 'http://10.1.32.6:7071']);
    expect(() => cdsPeerUrls('10.1.0.0/16', [])).toThrow('availabilityZones must name at least one zone to plan the CDS address of 10.1.0.0/16');
  });
});


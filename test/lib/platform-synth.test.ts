import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App, TerraformResource, TerraformStack } from 'cdktf';
import { gunzipSync } from 'zlib';
import { parseTopology, dataCenterStackName, siteStackName } from '../../lib';
import { buildPlatform } from '../../stacks/platform';
import { readStackJson, synthPlatform } from '../support/synth-platform';

type Resources = Record<string, Record<string, Record<string, unknown>>>;
interface StackJson {
  resource: Resources;
  provider: { aws: Array<Record<string, unknown>> };
  output?: Record<string, unknown>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
}

const topology = parseTopology(JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8')));
const platform = synthPlatform(topology, 'aws');
const dcStack: StackJson = JSON.parse(readStackJson(platform.stackDirs[dataCenterStackName('acme', 'east')]));
const westStack: StackJson = JSON.parse(readStackJson(platform.stackDirs[siteStackName('acme', 'west')]));
const allStacks = Object.values(platform.stackDirs).map((dir) => JSON.parse(readStackJson(dir)) as StackJson);

function resourcesOf(stack: StackJson, type: string): Record<string, unknown>[] {
  return Object.values(stack.resource[type] ?? {});
}

/** Media servers ship gzip-compressed user data (cloud-init detects it); the SIP nodes plain text. */
function decodeUserData(template: Record<string, unknown>): string {
  const bytes = Buffer.from(String(template.user_data), 'base64');
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
}

describe('data center stack', () => {
  it('runs one ECS service per media server and group, never rolled back by terraform', () => {
    const services = resourcesOf(dcStack, 'aws_ecs_service');
    expect(services).toHaveLength(4 * 2);
    for (const service of services) {
      expect(service.lifecycle).toEqual({ ignore_changes: ['task_definition'] });
      expect(service.deployment_minimum_healthy_percent).toBe(100);
    }
    const families = resourcesOf(dcStack, 'aws_ecs_task_definition').map((definition) => definition.family);
    expect(families).toContain('acme-west-ms-1-blue');
    expect(families).toContain('acme-frankfurt-ms-2-green');
  });

  it('admits the call-control ports only from the one media server each endpoint serves', () => {
    const rules = resourcesOf(dcStack, 'aws_vpc_security_group_ingress_rule');
    const fromAddresses = rules.filter((rule) => rule.cidr_ipv4 !== undefined);
    expect(fromAddresses.map((rule) => rule.cidr_ipv4).sort()).toEqual(
      ['10.1.128.10/32', '10.1.144.10/32', '10.2.128.10/32', '10.2.144.10/32'].flatMap((cidr) => [cidr, cidr]).sort(),
    );
    expect(fromAddresses.map((rule) => rule.from_port).sort()).toEqual([8084, 8084, 8084, 8084, 8085, 8085, 8085, 8085]);
    expect(rules.every((rule) => rule.cidr_ipv4 !== '0.0.0.0/0')).toBe(true);
  });

  it('keeps data tables safe: point-in-time recovery, encryption and deletion protection', () => {
    const tables = resourcesOf(dcStack, 'aws_dynamodb_table');
    expect(tables.map((table) => table.name).sort()).toEqual(['acme-dc-east-cdr-archive', 'acme-dc-east-upgrades']);
    for (const table of tables) {
      expect(table.point_in_time_recovery).toEqual({ enabled: true });
      expect(table.deletion_protection_enabled).toBe(true);
      expect(table.server_side_encryption).toEqual({ enabled: true });
    }
  });

  it('scopes the orchestrator role to its services, roles, secrets, table and logs', () => {
    const policies = resourcesOf(dcStack, 'aws_iam_role_policy').map((policy) => JSON.parse(String(policy.policy)));
    const orchestrator = policies.find((policy) => policy.Statement.some((statement: { Action: string[] }) => statement.Action.includes('ecs:UpdateService')));
    expect(orchestrator).toBeDefined();
    const statements: Array<{ Action: string[]; Resource: string[] }> = orchestrator.Statement;
    const update = statements.find((statement) => statement.Action.includes('ecs:UpdateService'))!;
    expect(update.Resource).toHaveLength(8);
    expect(update.Resource.every((resource) => resource.startsWith('${aws_ecs_service.'))).toBe(true);
    const unscoped = statements.filter((statement) => statement.Resource.includes('*')).flatMap((statement) => statement.Action);
    expect(unscoped.sort()).toEqual(
      [
        'ec2:AssignPrivateIpAddresses',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:UnassignPrivateIpAddresses',
        'ecs:DescribeTaskDefinition',
        // Conditioned on the data center's cluster (ListTasks names no resource).
        'ecs:ListTasks',
        'ecs:RegisterTaskDefinition',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    const secrets = statements.find((statement) => statement.Action.includes('secretsmanager:GetSecretValue'))!;
    expect(secrets.Resource).toHaveLength(2);
    const describeTasks = statements.find((statement) => statement.Action.includes('ecs:DescribeTasks'))!;
    expect(describeTasks.Resource).toEqual([expect.stringMatching(/:task\/acme-dc-east[\w-]*\/\*$/)]);
  });

  it('creates ESL password secrets without any secret value in terraform', () => {
    for (const stack of allStacks) {
      expect(stack.resource.aws_secretsmanager_secret_version).toBeUndefined();
    }
    expect(resourcesOf(dcStack, 'aws_secretsmanager_secret').map((secret) => secret.name).sort()).toEqual(['voiceplane/acme/frankfurt/esl-password', 'voiceplane/acme/west/esl-password']);
  });

  it('publishes the outputs the site stacks and `voiceplane inventory` read, and its alarm topic', () => {
    expect(Object.keys(dcStack.output ?? {}).sort()).toEqual([
      'alarm_topic_arn',
      'archive_table_arn',
      'archive_table_name',
      'call_control_service_arns',
      'call_control_zone_id',
      'ecs_cluster_arn',
      'esl_secret_arns',
      'private_route_table_ids',
      'vpc_id',
    ]);
  });
});

describe('site stack', () => {
  it('requires IMDSv2 on every launch template and starts every instance from one', () => {
    for (const stack of allStacks) {
      for (const template of resourcesOf(stack, 'aws_launch_template')) {
        expect(template.metadata_options).toMatchObject({ http_tokens: 'required', http_put_response_hop_limit: 1 });
      }
      for (const instance of resourcesOf(stack, 'aws_instance')) {
        expect(instance.launch_template).toMatchObject({ version: '$Default' });
      }
    }
    expect(resourcesOf(westStack, 'aws_launch_template')).toHaveLength(3);
  });

  it('installs the FreeSWITCH event socket on the private address, behind an ACL, with no password in user data', () => {
    const templates = resourcesOf(westStack, 'aws_launch_template').map(decodeUserData).filter((text) => text.includes('voiceplane media server'));
    expect(templates).toHaveLength(2);
    const first = templates.find((text) => text.includes('media server ms-1'))!;
    expect(first).toContain('<param name="listen-ip" value="10.1.128.10"/>');
    // The media server itself (its own fs_cli), the data center's orchestrator subnets, then the site's private
    // subnets where the CDS task collects events.
    const allowed = (list: string) =>
      [...(new RegExp(`<list name="${list}" default="deny">([\\s\\S]*?)</list>`).exec(first)?.[1] ?? '').matchAll(/<node type="allow" cidr="([^"]+)"\/>/g)].map((match) => match[1]);
    expect(allowed('voiceplane_esl')).toEqual(['10.1.128.10/32', '10.100.0.0/20', '10.100.16.0/20', '10.1.0.0/20', '10.1.16.0/20']);
    // SIP only from the public subnets, where the SIP cluster's nodes run.
    expect(allowed('voiceplane_sip_cluster')).toEqual(['10.1.128.0/20', '10.1.144.0/20']);
    expect(first).toContain('<param name="password" value="$${voiceplane_esl_password}"/>');
    expect(first).toMatch(/secretsmanager get-secret-value --region "\$region"/);
    expect(first).toContain("secret='voiceplane/acme/west/esl-password'");
    expect(first).toContain("region='us-east-1'");
    expect(first).toContain('ms-1.west.cc.acme.internal');
    expect(first).not.toMatch(/password"? value="[^$]/);
  });

  it("opens only RTP to the internet, SIP to the voice connector's networks, and the event socket only to the data center", () => {
    const rules = resourcesOf(westStack, 'aws_vpc_security_group_ingress_rule');
    const open = rules.filter((rule) => rule.cidr_ipv4 === '0.0.0.0/0').map((rule) => `${rule.ip_protocol}/${rule.from_port}-${rule.to_port}`);
    expect([...new Set(open)].sort()).toEqual(['udp/16384-32768']);
    const sipFromOutside = rules.filter((rule) => rule.from_port === 5060 && rule.cidr_ipv4 !== undefined && !String(rule.cidr_ipv4).startsWith('10.')).map((rule) => `${rule.ip_protocol} ${rule.cidr_ipv4}`);
    expect(sipFromOutside.sort()).toEqual(['tcp 99.77.232.0/24', 'tcp 99.77.253.0/24', 'udp 99.77.232.0/24', 'udp 99.77.253.0/24']);
    const esl = rules.filter((rule) => rule.from_port === 8021 && rule.cidr_ipv4 !== undefined).map((rule) => rule.cidr_ipv4);
    expect([...new Set(esl)].sort()).toEqual(['10.100.0.0/20', '10.100.16.0/20']);
  });

  it('gives the CDS a table with TTL and PITR, and one Fargate task', () => {
    const table = resourcesOf(westStack, 'aws_dynamodb_table')[0];
    expect(table).toMatchObject({ name: 'acme-site-west-cds', ttl: { attribute_name: 'expiresAt', enabled: true }, point_in_time_recovery: { enabled: true } });
    const service = resourcesOf(westStack, 'aws_ecs_service')[0];
    expect(service).toMatchObject({ desired_count: 1, launch_type: 'FARGATE', deployment_maximum_percent: 100 });
  });

  it('peers with its data center across regions, accepting with the data-center provider, with routes both ways', () => {
    const [connection] = resourcesOf(westStack, 'aws_vpc_peering_connection');
    expect(connection).toMatchObject({ peer_region: 'us-east-1', auto_accept: false });
    const [accepter] = resourcesOf(westStack, 'aws_vpc_peering_connection_accepter');
    expect(accepter).toMatchObject({ provider: 'aws.east', auto_accept: true });
    const routes = resourcesOf(westStack, 'aws_route').filter((route) => route.vpc_peering_connection_id !== undefined);
    expect(routes.filter((route) => route.destination_cidr_block === '10.100.0.0/16')).toHaveLength(3);
    expect(routes.filter((route) => route.destination_cidr_block === '10.1.0.0/16' && route.provider === 'aws.east')).toHaveLength(2);
  });

  it('peers a later site with each earlier one (their CDS nodes call each other), reading the earlier site from its state', () => {
    const frankfurtStack: StackJson = JSON.parse(readStackJson(platform.stackDirs[siteStackName('acme', 'frankfurt')]));
    const peeredVpcs = (stack: StackJson) => resourcesOf(stack, 'aws_vpc_peering_connection').map((connection) => connection.peer_region);
    expect(peeredVpcs(westStack)).toEqual(['us-east-1']);
    expect(peeredVpcs(frankfurtStack).sort()).toEqual(['us-east-1', 'us-west-2']);
    const accepters = resourcesOf(frankfurtStack, 'aws_vpc_peering_connection_accepter').map((accepter) => accepter.provider);
    expect(accepters.sort()).toEqual(['aws.east', 'aws.west']);
    const siteRoutes = resourcesOf(frankfurtStack, 'aws_route').filter((route) => route.vpc_peering_connection_id !== undefined && String(route.vpc_peering_connection_id).includes('SitePeering-west'));
    expect(siteRoutes.map((route) => `${route.provider} -> ${route.destination_cidr_block}`).sort()).toEqual([
      ...Array(3).fill('aws -> 10.1.0.0/16'),
      ...Array(3).fill('aws.west -> 10.2.0.0/16'),
    ]);
    const westState = Object.values(frankfurtStack.data?.terraform_remote_state ?? {}).find((state) => JSON.stringify(state).includes('acme-site-west'));
    expect(westState).toMatchObject({ backend: 's3', config: { key: 'voiceplane/acme/acme-site-west.tfstate' } });
    expect(Object.keys(westStack.output ?? {})).toEqual(expect.arrayContaining(['vpc_id', 'public_route_table_id', 'private_route_table_ids', 'cds_peer_urls']));

    const manifest = JSON.parse(readFileSync(path.join(platform.outdir, 'manifest.json'), 'utf8'));
    expect(manifest.stacks['acme-site-frankfurt'].dependencies.sort()).toEqual(['acme-dc-east', 'acme-site-west']);
    expect(manifest.stacks['acme-site-west'].dependencies).toEqual(['acme-dc-east']);
  });

  it('has every CDS call its peers at their planned load-balancer addresses', () => {
    const command = (stack: StackJson) => JSON.parse(String(resourcesOf(stack, 'aws_ecs_task_definition')[0].container_definitions))[0].command as string[];
    const peerFlags = (args: string[]) => args.flatMap((arg, index) => (args[index - 1] === '--peer' ? [arg] : []));
    const frankfurtStack: StackJson = JSON.parse(readStackJson(platform.stackDirs[siteStackName('acme', 'frankfurt')]));
    expect(peerFlags(command(westStack))).toEqual(['frankfurt=http://10.2.0.6:7071,http://10.2.16.6:7071']);
    expect(peerFlags(command(frankfurtStack))).toEqual(['west=http://10.1.0.6:7071,http://10.1.16.6:7071']);
    const [westLoadBalancer] = resourcesOf(westStack, 'aws_lb').filter((lb) => String(lb.name).endsWith('-cds'));
    expect((westLoadBalancer.subnet_mapping as Array<{ private_ipv4_address: string }>).map((mapping) => mapping.private_ipv4_address)).toEqual(['10.1.0.6', '10.1.16.6']);
  });

  it('connects the PSTN voice connector to every SIP cluster node, with a termination allow-list', () => {
    const [termination] = resourcesOf(westStack, 'aws_chime_voice_connector_termination');
    expect(termination).toMatchObject({ cidr_allow_list: ['198.51.100.0/28'], calling_regions: ['US', 'CA'] });
    const [origination] = resourcesOf(westStack, 'aws_chime_voice_connector_origination');
    expect(origination.route).toEqual(
      [0, 1].map((node) => ({ host: expect.stringMatching(new RegExp(`^\\$\\{aws_eip\\.\\w*SipCluster_Node${node}PublicAddress_\\w+\\.public_ip\\}$`)), port: 5060, protocol: 'TCP', priority: 1, weight: 1 })),
    );
  });

  it('tags everything with platform, site and component', () => {
    expect(westStack.provider.aws[0].default_tags).toEqual([{ tags: { Platform: 'acme', Site: 'west', ManagedBy: 'voiceplane' } }]);
    const instances = resourcesOf(westStack, 'aws_instance');
    expect(instances.map((instance) => (instance.tags as Record<string, string>).Component).sort()).toEqual(['media-server', 'media-server', 'sip-cluster', 'sip-cluster']);
    expect((resourcesOf(dcStack, 'aws_ecs_service')[0].tags as Record<string, string>).Component).toBe('call-control');
  });

  it('gives every taggable resource of every stack a Component tag', () => {
    const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'voiceplane-tags-')) });
    buildPlatform(app, topology, 'aws');
    app.synth();
    const untagged: string[] = [];
    let taggable = 0;
    for (const stack of app.node.children.filter((child): child is TerraformStack => child instanceof TerraformStack)) {
      const json = JSON.parse(readFileSync(path.join(app.outdir, 'stacks', stack.node.id, 'cdk.tf.json'), 'utf8')) as StackJson;
      for (const resource of stack.node.findAll().filter((node): node is TerraformResource => node instanceof TerraformResource && 'tagsInput' in node)) {
        taggable++;
        const tags = json.resource[resource.terraformResourceType]?.[stack.getLogicalId(resource)]?.tags as Record<string, string> | undefined;
        if (!tags?.Component) untagged.push(`${stack.node.id}: ${resource.node.path}`);
      }
    }
    expect(taggable).toBeGreaterThan(100);
    expect(untagged).toEqual([]);
  });
});

describe('synthesis', () => {
  it('is deterministic: two synths of one topology are byte-identical', () => {
    const second = synthPlatform(topology, 'aws');
    for (const [name, dir] of Object.entries(platform.stackDirs)) {
      expect(readStackJson(second.stackDirs[name])).toBe(readStackJson(dir));
    }
  });
});

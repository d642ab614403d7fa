import { readFileSync } from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { KAMAILIO_RPC_PORT, SipHaCluster, SipHaClusterProps, TopologyError, parseTopology, siteStackName } from '../../lib';
import { renderSipConfigFiles, sipSiteFromTopology } from '../../runtime/sip';
import { VOICE_CONNECTOR_SIGNALLING_CIDRS } from '../../lib/voice-connector-signalling';
import { dataCenterStackName } from '../../runtime/naming/stack-names';
import { readStackJson, synthPlatform } from '../support/synth-platform';

type Resource = Record<string, unknown>;
interface StackJson {
  resource: Record<string, Record<string, Resource>>;
}

const exampleInput: unknown = JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8'));
const examplePlatform = synthPlatform(parseTopology(exampleInput), 'aws');
const westStack: StackJson = JSON.parse(readStackJson(examplePlatform.stackDirs[siteStackName('acme', 'west')]));
const eastDataCenterStack: StackJson = JSON.parse(readStackJson(examplePlatform.stackDirs[dataCenterStackName('acme', 'east')]));
/** West is in us-west-2 and sets no SIP sources: its voice connector's signalling networks are the default. */
const WEST_SIGNALLING_CIDRS = VOICE_CONNECTOR_SIGNALLING_CIDRS['us-west-2'];
const resourcesOf = (stack: StackJson, type: string) => Object.values(stack.resource[type] ?? {});

const sipUserData = (stack: StackJson) =>
  resourcesOf(stack, 'aws_launch_template')
    .map((template) => gunzipSync(Buffer.from(String(template.user_data), 'base64')).toString('utf8'))
    .find((text) => text.includes('voiceplane SIP cluster node'))!;

/** The content cloud-init writes to `file` (written base64-encoded). */
function installedFile(userData: string, file: string): string {
  const match = new RegExp(`- path: ${file.replace(/\./g, '\\.')}\\n(?:    .*\\n)*?    content: (\\S+)`).exec(userData);
  if (!match) throw new Error(`user data does not install ${file}`);
  return Buffer.from(match[1], 'base64').toString('utf8');
}

const props: SipHaClusterProps = {
  name: 'acme-west',
  vpcId: 'vpc-1',
  vpcCidr: '10.1.0.0/16',
  publicSubnetIds: ['subnet-a', 'subnet-b'],
  size: 2,
  site: { id: 'west', mediaServers: [{ id: 'ms-1', address: '10.1.128.10', port: 5060 }] },
  allowedSourceCidrs: ['0.0.0.0/0'],
  rpcAllowedCidrs: ['10.100.0.0/20'],
  region: 'us-west-2',
};

function newStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'test');
  new AwsProvider(stack, 'aws', { region: 'us-west-2' });
  return stack;
}

describe('SipHaCluster', () => {
  it('installs exactly the files `voiceplane sip config` writes for the site', () => {
    const userData = sipUserData(westStack);
    const expected = renderSipConfigFiles(sipSiteFromTopology(exampleInput, 'west'));
    expect(installedFile(userData, '/etc/voiceplane/sip/kamailio.cfg')).toBe(expected['kamailio.cfg']);
    expect(installedFile(userData, '/etc/voiceplane/sip/dispatcher.list')).toBe(expected['dispatcher.list']);
  });

  it("starts Kamailio with the node's addresses from IMDSv2, the SIP sources and the RPC allow-list of loopback and the orchestrators", () => {
    const userData = sipUserData(westStack);
    expect(userData).toContain("X-aws-ec2-metadata-token-ttl-seconds: 900");
    expect(userData).toContain('CFGFILE=/etc/voiceplane/sip/kamailio.cfg');
    expect(userData).toContain('VOICEPLANE_SIP_NODE_ADDRESS=$(meta local-ipv4)');
    expect(userData).toContain('VOICEPLANE_SIP_PUBLIC_ADDRESS=$public');
    expect(userData).toContain('VOICEPLANE_SIP_RPC_ALLOWED_CIDRS=127.0.0.1/32,10.100.0.0/20,10.100.16.0/20\n');
    expect(userData).toContain(`VOICEPLANE_SIP_ALLOWED_SOURCE_CIDRS=${WEST_SIGNALLING_CIDRS.join(',')}\n`);
    expect(userData).toMatch(/apt-get install -y -q kamailio awscli\n/);
    // The token is in place (or the boot stopped) before Kamailio is enabled and started.
    expect(userData.indexOf('mv /etc/voiceplane/sip/rpc/token.cfg.new /etc/voiceplane/sip/rpc/token.cfg\n')).toBeGreaterThan(0);
    expect(userData.indexOf('mv /etc/voiceplane/sip/rpc/token.cfg.new')).toBeLessThan(userData.indexOf('systemctl enable kamailio'));
  });

  it("authenticates RPC with a token from the site's secret, created without a value and readable only by the nodes, never in user data", () => {
    const secrets = resourcesOf(westStack, 'aws_secretsmanager_secret').filter((secret) => secret.name === 'acme-west-sip-rpc-token');
    expect(secrets).toHaveLength(1);
    expect(resourcesOf(westStack, 'aws_secretsmanager_secret_version').filter((version) => String(version.secret_id).includes('RpcToken'))).toHaveLength(0);
    const userData = sipUserData(westStack);
    expect(userData).toContain('aws secretsmanager get-secret-value --region us-west-2 --secret-id acme-west-sip-rpc-token');
    // Only the header's digest reaches the file kamailio.cfg includes, not the token.
    expect(userData).toContain("rpc_digest=$(printf 'Bearer %s' \"$rpc_token\" | sha256sum | cut -d ' ' -f 1)");
    expect(userData).toContain("printf '#!define SIP_RPC_AUTHORIZATION_SHA256 \"%s\"\\n' \"$rpc_digest\" > /etc/voiceplane/sip/rpc/token.cfg.new");
    expect(userData).not.toMatch(/printf [^\n]*rpc_token[^\n]*token\.cfg/);
    expect(installedFile(userData, '/etc/voiceplane/sip/kamailio.cfg')).toContain('include_file "/etc/voiceplane/sip/rpc/token.cfg"');
    const policies = resourcesOf(westStack, 'aws_iam_role_policy').filter((policy) => String(policy.policy).includes('SipCluster_RpcToken'));
    expect(policies).toHaveLength(1);
    const statements = (JSON.parse(String(policies[0].policy)) as { Statement: Array<{ Action: unknown; Resource: unknown }> }).Statement;
    expect(statements.find((statement) => JSON.stringify(statement.Resource).includes('RpcToken'))?.Action).toEqual(['secretsmanager:GetSecretValue']);
    expect(String(policies[0].role)).toContain('SipCluster_Role');
    const cluster = new SipHaCluster(newStack(), 'Sip', props);
    expect(cluster.rpcTokenSecretArn).toMatch(/^\$\{TfToken\[TOKEN\.\d+\]\}$/);
  });

  it('gives every node an Elastic IP in a public subnet, behind the load balancer', () => {
    const instances = resourcesOf(westStack, 'aws_instance').filter((instance) => String((instance.tags as Record<string, string>).Name).includes('-sip-'));
    expect(instances).toHaveLength(2);
    instances.forEach((instance, index) => expect(instance.subnet_id).toMatch(new RegExp(`aws_subnet\\.\\w*PublicSubnet${index}_`)));
    const addresses = resourcesOf(westStack, 'aws_eip').filter((address) => String(address.instance).includes('SipCluster_Node'));
    expect(addresses).toHaveLength(2);
    expect(resourcesOf(westStack, 'aws_lb_target_group_attachment')).toHaveLength(2);
  });

  it("opens RPC only to the orchestrators, the media-server side inside the site, SIP to the voice connector's networks", () => {
    const rules = resourcesOf(westStack, 'aws_vpc_security_group_ingress_rule').filter((rule) => String(rule.security_group_id).includes('SipCluster'));
    const byPort = (port: number) => rules.filter((rule) => rule.from_port === port).map((rule) => `${rule.ip_protocol} ${rule.cidr_ipv4}`).sort();
    expect(byPort(KAMAILIO_RPC_PORT)).toEqual(['tcp 10.100.0.0/20', 'tcp 10.100.16.0/20']);
    expect(byPort(5070)).toEqual(['udp 10.1.0.0/16']);
    expect(byPort(5060)).toEqual(['tcp 10.1.0.0/16', ...WEST_SIGNALLING_CIDRS.flatMap((cidr) => [`tcp ${cidr}`, `udp ${cidr}`])].sort());
  });

  it("lets the data center's orchestrator reach the RPC sockets in the subnets of the sites it serves", () => {
    const egress = resourcesOf(eastDataCenterStack, 'aws_vpc_security_group_egress_rule').filter((rule) => String(rule.security_group_id).includes('UpgradeOrchestrator'));
    const rpcTargets = egress.filter((rule) => rule.from_port === KAMAILIO_RPC_PORT && rule.to_port === KAMAILIO_RPC_PORT).map((rule) => `${rule.ip_protocol} ${rule.cidr_ipv4}`);
    const eslTargets = egress.filter((rule) => rule.from_port === 8021).map((rule) => `tcp ${rule.cidr_ipv4}`);
    expect(rpcTargets.length).toBeGreaterThan(0);
    expect(rpcTargets.sort()).toEqual(eslTargets.sort());
    rpcTargets.forEach((target) => expect(target).toMatch(/^tcp 10\.(1|2)\.\d+\.\d+\/\d+$/));
  });

  it('exposes the RPC sockets and public addresses of its nodes', () => {
    const cluster = new SipHaCluster(newStack(), 'Sip', props);
    expect(cluster.rpcEndpoints).toHaveLength(2);
    cluster.rpcEndpoints.forEach((endpoint) => expect(endpoint).toMatch(new RegExp(`^\\$\\{TfToken\\[TOKEN\\.\\d+\\]\\}:${KAMAILIO_RPC_PORT}$`)));
    expect(cluster.nodePublicIps).toHaveLength(2);
  });

  it('needs the SIP sources spelled out in a region without a voice connector to take them from', () => {
    const input = JSON.parse(JSON.stringify(exampleInput)) as { sites: Array<Record<string, unknown>> };
    Object.assign(input.sites[1], { region: 'eu-north-1', availabilityZones: ['eu-north-1a', 'eu-north-1b'], pstn: { enabled: false } });
    const rejection = (() => {
      try {
        parseTopology(input);
        return undefined;
      } catch (error) {
        return error as TopologyError;
      }
    })();
    expect(rejection?.issues).toEqual(['sites[1].sipCluster.allowedSourceCidrs: required in eu-north-1, which has no Amazon Chime SDK Voice Connector whose networks could be the default']);
    (input.sites[1].sipCluster as Record<string, unknown>).allowedSourceCidrs = ['192.0.2.0/24'];
    expect(parseTopology(input).sites[1].sipCluster.allowedSourceCidrs).toEqual(['192.0.2.0/24']);
    expect(() => new SipHaCluster(newStack(), 'Sip', { ...props, allowedSourceCidrs: [] })).toThrow(/^allowedSourceCidrs must name at least one network/);
  });

  it('refuses more nodes than a voice connector can route to, and sites the renderer rejects', () => {
    expect(() => new SipHaCluster(newStack(), 'Sip', { ...props, size: 11 })).toThrow('size must be an integer from 1 to 10 (a voice connector routes to at most 10 hosts), got 11');
    expect(() => new SipHaCluster(newStack(), 'Sip', { ...props, site: { id: 'west', mediaServers: [] } })).toThrow('SIP site: mediaServers: at least one media server is required');
  });
});

import { readFileSync } from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { KAMAILIO_RPC_PORT, SipHaCluster, SipHaClusterProps, parseTopology, siteStackName } from '../../lib';
import { renderSipConfigFiles, sipSiteFromTopology } from '../../runtime/sip';
import { readStackJson, synthPlatform } from '../support/synth-platform';

type Resource = Record<string, unknown>;
interface StackJson {
  resource: Record<string, Record<string, Resource>>;
}

const exampleInput: unknown = JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8'));
const westStack: StackJson = JSON.parse(readStackJson(synthPlatform(parseTopology(exampleInput), 'aws').stackDirs[siteStackName('acme', 'west')]));
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

  it("starts Kamailio with the node's addresses from IMDSv2 and the RPC allow-list of the site and its data center", () => {
    const userData = sipUserData(westStack);
    expect(userData).toContain("X-aws-ec2-metadata-token-ttl-seconds: 900");
    expect(userData).toContain('CFGFILE=/etc/voiceplane/sip/kamailio.cfg');
    expect(userData).toContain('VOICEPLANE_SIP_NODE_ADDRESS=$(meta local-ipv4)');
    expect(userData).toContain('VOICEPLANE_SIP_PUBLIC_ADDRESS=$public');
    expect(userData).toContain('VOICEPLANE_SIP_RPC_ALLOWED_CIDRS=10.1.0.0/16,10.100.0.0/20,10.100.16.0/20');
    expect(userData).toMatch(/apt-get install -y -q kamailio\n +systemctl enable kamailio\n +systemctl restart kamailio\n/);
  });

  it('gives every node an Elastic IP in a public subnet, behind the load balancer', () => {
    const instances = resourcesOf(westStack, 'aws_instance').filter((instance) => String((instance.tags as Record<string, string>).Name).includes('-sip-'));
    expect(instances).toHaveLength(2);
    instances.forEach((instance, index) => expect(instance.subnet_id).toMatch(new RegExp(`aws_subnet\\.\\w*PublicSubnet${index}_`)));
    const addresses = resourcesOf(westStack, 'aws_eip').filter((address) => String(address.instance).includes('SipCluster_Node'));
    expect(addresses).toHaveLength(2);
    expect(resourcesOf(westStack, 'aws_lb_target_group_attachment')).toHaveLength(2);
  });

  it('opens RPC and the media-server side only inside the site and to the orchestrator, SIP to the allowed sources', () => {
    const rules = resourcesOf(westStack, 'aws_vpc_security_group_ingress_rule').filter((rule) => String(rule.security_group_id).includes('SipCluster'));
    const byPort = (port: number) => rules.filter((rule) => rule.from_port === port).map((rule) => `${rule.ip_protocol} ${rule.cidr_ipv4}`).sort();
    expect(byPort(KAMAILIO_RPC_PORT)).toEqual(['tcp 10.1.0.0/16', 'tcp 10.100.0.0/20', 'tcp 10.100.16.0/20']);
    expect(byPort(5070)).toEqual(['udp 10.1.0.0/16']);
    expect(byPort(5060)).toEqual(['tcp 0.0.0.0/0', 'tcp 10.1.0.0/16', 'udp 0.0.0.0/0']);
  });

  it('exposes the RPC sockets and public addresses of its nodes', () => {
    const cluster = new SipHaCluster(newStack(), 'Sip', props);
    expect(cluster.rpcEndpoints).toHaveLength(2);
    cluster.rpcEndpoints.forEach((endpoint) => expect(endpoint).toMatch(new RegExp(`^\\$\\{TfToken\\[TOKEN\\.\\d+\\]\\}:${KAMAILIO_RPC_PORT}$`)));
    expect(cluster.nodePublicIps).toHaveLength(2);
  });

  it('refuses more nodes than a voice connector can route to, and sites the renderer rejects', () => {
    expect(() => new SipHaCluster(newStack(), 'Sip', { ...props, size: 11 })).toThrow('size must be an integer from 1 to 10 (a voice connector routes to at most 10 hosts), got 11');
    expect(() => new SipHaCluster(newStack(), 'Sip', { ...props, site: { id: 'west', mediaServers: [] } })).toThrow('SIP site: mediaServers: at least one media server is required');
  });
});

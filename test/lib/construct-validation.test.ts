import { Aspects, TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { CentralDataCenter, PstnGateway, RegionPeering, RequireImdsV2, RestrictOpenIngress } from '../../lib';

function newStack(): { app: ReturnType<typeof Testing.app>; stack: TerraformStack } {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  new AwsProvider(stack, 'aws', { region: 'us-east-1' });
  return { app, stack };
}

const group = { id: 'blue', instances: 1, image: 'repo/call-control', version: '1.0.0' };

describe('construct validation', () => {
  it('CentralDataCenter refuses media servers in its own region (geographic separation)', () => {
    const { stack } = newStack();
    expect(
      () =>
        new CentralDataCenter(stack, 'dc', {
          platform: 'acme',
          dataCenterId: 'east',
          region: 'us-east-1',
          cidrBlock: '10.100.0.0/16',
          availabilityZones: ['us-east-1a'],
          mediaServers: [{ siteId: 'nyc', mediaServerId: 'ms-1', siteRegion: 'us-east-1', privateIp: '10.1.128.10', groups: [group, { ...group, id: 'green' }] }],
          mediaServerCidrs: ['10.1.128.0/20'],
        }),
    ).toThrow('mediaServers must be in another region than the data center (us-east-1): nyc/ms-1 share it');
  });

  it('RegionPeering peers two VPCs of one region without peer_region, and refuses overlapping CIDRs', () => {
    const { stack } = newStack();
    const provider = new AwsProvider(stack, 'other', { region: 'us-east-1', alias: 'other' });
    const side = { vpcId: 'vpc-1', cidrBlock: '10.0.0.0/16', routeTableIds: ['rtb-1'], routeTableCount: 1, region: 'us-east-1', provider };
    new RegionPeering(stack, 'peering', { name: 'p', requester: side, accepter: { ...side, vpcId: 'vpc-2', cidrBlock: '10.1.0.0/16' } });
    const resources = JSON.parse(Testing.synth(stack)).resource;
    const [connection] = Object.values(resources.aws_vpc_peering_connection) as Array<Record<string, unknown>>;
    expect(connection).toMatchObject({ vpc_id: 'vpc-1', peer_vpc_id: 'vpc-2', auto_accept: false });
    expect(connection.peer_region).toBeUndefined();
    const routes = (Object.values(resources.aws_route) as Array<Record<string, unknown>>).map((route) => route.destination_cidr_block).sort();
    expect(routes).toEqual(['10.0.0.0/16', '10.1.0.0/16']);
    expect(() => new RegionPeering(stack, 'overlapping', { name: 'q', requester: side, accepter: { ...side, vpcId: 'vpc-3', cidrBlock: '10.0.128.0/17' } })).toThrow(
      "accepter cidrBlock 10.0.128.0/17 overlaps the requester's 10.0.0.0/16: AWS refuses to peer overlapping VPCs",
    );
  });

  it('PstnGateway refuses regions without voice connectors and over-wide allow-lists', () => {
    const { stack } = newStack();
    const props = { name: 'vc', region: 'us-east-1', originationHosts: ['sip.example.net'], terminationCidrAllowList: ['198.51.100.0/28'], callingRegions: ['US'] };
    expect(() => new PstnGateway(stack, 'a', { ...props, region: 'eu-north-1' })).toThrow(/^region eu-north-1 has no Amazon Chime SDK Voice Connector/);
    expect(() => new PstnGateway(stack, 'b', { ...props, terminationCidrAllowList: ['198.51.0.0/16'] })).toThrow('terminationCidrAllowList entries must be /27 or narrower (a voice connector limit): 198.51.0.0/16');
  });

  it('RequireImdsV2 fails synthesis for a launch template that allows IMDSv1', () => {
    const { app, stack } = newStack();
    new LaunchTemplate(stack, 'lt', { imageId: 'ami-123', metadataOptions: { httpTokens: 'optional' } });
    Aspects.of(stack).add(new RequireImdsV2());
    expect(() => app.synth()).toThrow(/launch template test\/lt must set metadata_options.http_tokens = "required" \(IMDSv2\)/);
  });

  it('RestrictOpenIngress fails synthesis for an event socket open to the internet, not for RTP', () => {
    const { app, stack } = newStack();
    new VpcSecurityGroupIngressRule(stack, 'rtp', { securityGroupId: 'sg-1', ipProtocol: 'udp', fromPort: 16384, toPort: 32768, cidrIpv4: '0.0.0.0/0' });
    new VpcSecurityGroupIngressRule(stack, 'esl', { securityGroupId: 'sg-1', ipProtocol: 'tcp', fromPort: 8021, toPort: 8021, cidrIpv4: '0.0.0.0/0' });
    Aspects.of(stack).add(new RestrictOpenIngress());
    expect(() => app.synth()).toThrow(/ingress rule test\/esl opens tcp 8021-8021 to 0.0.0.0\/0/);
    expect(() => app.synth()).not.toThrow(/test\/rtp/);
  });

  it('RestrictOpenIngress also catches IPv6, internet-wide ranges, security group rules and inline ingress blocks', () => {
    const { app, stack } = newStack();
    const esl = { securityGroupId: 'sg-1', ipProtocol: 'tcp', fromPort: 8021, toPort: 8021 };
    new VpcSecurityGroupIngressRule(stack, 'ipv6', { ...esl, cidrIpv6: '::/0' });
    new VpcSecurityGroupIngressRule(stack, 'half', { ...esl, cidrIpv4: '0.0.0.0/1' });
    new VpcSecurityGroupIngressRule(stack, 'carrier', { ...esl, cidrIpv4: '198.51.100.0/24' });
    new VpcSecurityGroupIngressRule(stack, 'sipv6', { ...esl, fromPort: 5060, toPort: 5060, cidrIpv6: '::/0' });
    new SecurityGroupRule(stack, 'rule', { type: 'ingress', securityGroupId: 'sg-1', protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['10.0.0.0/8', '0.0.0.0/0'] });
    new SecurityGroupRule(stack, 'egress', { type: 'egress', securityGroupId: 'sg-1', protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] });
    new SecurityGroup(stack, 'inline', { ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrBlocks: ['0.0.0.0/0'] }] });
    Aspects.of(stack).add(new RestrictOpenIngress());
    let message = '';
    try {
      app.synth();
    } catch (error) {
      message = String(error);
    }
    const refused = [...message.matchAll(/ingress rule (\S+) opens (\S+ \S+) to (\S+);/g)].map((match) => `${match[1]} ${match[2]} ${match[3]}`);
    expect(refused.sort()).toEqual(['test/half tcp 8021-8021 0.0.0.0/1', 'test/inline tcp 22-22 0.0.0.0/0', 'test/ipv6 tcp 8021-8021 ::/0', 'test/rule all 0-0 0.0.0.0/0']);
  });
});

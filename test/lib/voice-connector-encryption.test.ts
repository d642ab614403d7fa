import { readFileSync } from 'fs';
import { gunzipSync } from 'zlib';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { PstnGateway, TopologyError, parseTopology, type TopologyInput } from '../../lib';
import { mediaServerSettingsFromTopology } from '../../runtime/freeswitch-config/topology-media-server';
import { renderSipConfigFiles, sipSiteFromTopology } from '../../runtime/sip';
import { VOICE_CONNECTOR_SIGNALLING_CIDRS } from '../../lib/voice-connector-signalling';
import { readStackJson, synthPlatform } from '../support/synth-platform';

type Resources = Record<string, Record<string, Record<string, unknown>>>;
const example = (): TopologyInput => JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8'));

function gatewayResources(requireEncryption: boolean): Resources {
  const stack = new TerraformStack(Testing.app(), 'test');
  new AwsProvider(stack, 'aws', { region: 'us-west-2' });
  new PstnGateway(stack, 'Pstn', {
    name: 'acme-west',
    region: 'us-west-2',
    originationHosts: ['203.0.113.10', '203.0.113.11'],
    terminationCidrAllowList: ['198.51.100.0/28'],
    callingRegions: ['US'],
    requireEncryption,
  });
  return JSON.parse(Testing.synth(stack)).resource as Resources;
}
const only = (resource: Resources, type: string) => Object.values(resource[type])[0];

describe("the voice connector's encryption (TLS signalling, SRTP media)", () => {
  it('is a per-site topology setting, off by default: the SIP cluster takes SIP over TCP/UDP 5060 and the media servers plain RTP', () => {
    const topology = parseTopology(example());
    expect(topology.sites.map((site) => site.pstn.requireEncryption)).toEqual([false, false]);
    const west = (JSON.parse(readStackJson(synthPlatform(topology, 'aws').stackDirs['acme-site-west'])) as { resource: Resources }).resource;
    expect(only(west, 'aws_chime_voice_connector').require_encryption).toBe(false);
    expect((only(west, 'aws_chime_voice_connector_origination').route as { port: number }[]).map((route) => route.port)).toEqual([5060, 5060]);
  });

  it('on, makes the site take TLS on 5061 only from the signalling ranges, with a certificate secret Terraform never holds a value of', () => {
    const input = example();
    input.sites[0].pstn = { ...input.sites[0].pstn!, requireEncryption: true };
    const topology = parseTopology(input);
    const west = (JSON.parse(readStackJson(synthPlatform(topology, 'aws').stackDirs['acme-site-west'])) as { resource: Resources }).resource;
    expect(only(west, 'aws_chime_voice_connector').require_encryption).toBe(true);
    expect((only(west, 'aws_chime_voice_connector_origination').route as { port: number }[]).map((route) => route.port)).toEqual([5061, 5061]);

    const sipRules = Object.values(west.aws_vpc_security_group_ingress_rule).filter((rule) => String(rule.security_group_id).includes('SipCluster'));
    const rulesOn = (port: number) => sipRules.filter((rule) => rule.from_port === port).map((rule) => `${rule.ip_protocol} ${rule.cidr_ipv4}`).sort();
    expect(rulesOn(5061)).toEqual(VOICE_CONNECTOR_SIGNALLING_CIDRS['us-west-2'].map((cidr) => `tcp ${cidr}`).sort());
    // SIP in the clear stays inside the VPC (load balancer health checks); nothing anywhere from 0.0.0.0/0.
    expect(rulesOn(5060)).toEqual(['tcp 10.1.0.0/16']);
    expect(sipRules.filter((rule) => rule.cidr_ipv4 === '0.0.0.0/0')).toEqual([]);

    const secrets = Object.values(west.aws_secretsmanager_secret).filter((secret) => String(secret.name).includes('sip-tls'));
    expect(secrets).toEqual([expect.objectContaining({ name: 'acme-west-sip-tls-certificate' })]);
    expect(Object.keys(west.aws_secretsmanager_secret_version ?? {})).toEqual([]);
    const secretReference = expect.stringMatching(/^\$\{aws_secretsmanager_secret\.\w*SipCluster_TlsCertificate_\w+\.arn\}$/);
    const sipPolicies = Object.values(west.aws_iam_role_policy).filter((policy) => String(policy.role).includes('SipCluster') && String(policy.policy).includes('secretsmanager:'));
    const rpcTokenReference = expect.stringMatching(/^\$\{aws_secretsmanager_secret\.\w*SipCluster_RpcToken_\w+\.arn\}$/);
    expect(sipPolicies.map((policy) => JSON.parse(String(policy.policy)).Statement)).toEqual([[{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [rpcTokenReference, secretReference] }]]);

    // The nodes fetch the certificate at boot; it never travels in user data. Media servers take SRTP only.
    const sipUserData = Object.values(west.aws_launch_template)
      .map((template) => gunzipSync(Buffer.from(String(template.user_data), 'base64')).toString('utf8'))
      .find((text) => text.includes('voiceplane SIP cluster node'))!;
    expect(sipUserData).toContain('apt-get install -y -q kamailio kamailio-tls-modules awscli');
    expect(sipUserData).toContain('aws secretsmanager get-secret-value --region us-west-2 --secret-id acme-west-sip-tls-certificate');
    expect(sipUserData).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    expect(renderSipConfigFiles(sipSiteFromTopology(input, 'west'))['kamailio.cfg']).toContain('listen=tls:NODE_ADDRESS:5061 advertise PUBLIC_ADDRESS:5061');
    expect(mediaServerSettingsFromTopology(input, 'west', 'ms-1').srtp).toBe(true);
  });

  it('is off in the example topology, and on only with the voice connector it applies to', () => {
    expect(example().sites.map((site) => site.pstn?.requireEncryption ?? false)).toEqual([false, false]);
    const input = example();
    input.sites[1].pstn = { ...input.sites[1].pstn!, enabled: false, requireEncryption: true };
    expect(() => parseTopology(input)).toThrow(TopologyError);
    try {
      parseTopology(input);
    } catch (error) {
      expect((error as TopologyError).issues).toEqual(['sites[1].pstn.requireEncryption: applies to the voice connector: set pstn.enabled too, or leave it false']);
    }
  });

  it('on a PstnGateway, requires encryption and sends calls over TLS to port 5061 of the origination hosts', () => {
    const encrypted = gatewayResources(true);
    expect(only(encrypted, 'aws_chime_voice_connector').require_encryption).toBe(true);
    expect(only(encrypted, 'aws_chime_voice_connector_origination').route).toEqual(
      ['203.0.113.10', '203.0.113.11'].map((host) => ({ host, port: 5061, protocol: 'TCP', priority: 1, weight: 1 })),
    );
    expect((only(gatewayResources(false), 'aws_chime_voice_connector_origination').route as { port: number }[]).map((route) => route.port)).toEqual([5060, 5060]);
  });
});

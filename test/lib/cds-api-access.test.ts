import { readFileSync } from 'fs';
import * as path from 'path';
import { parseTopology, siteStackName, type Topology } from '../../lib';
import { cidrsOverlap } from '../../runtime/net/ipv4';
import { placeMediaServer, planSubnets } from '../../runtime/net/network-plan';
import { readStackJson, synthPlatform } from '../support/synth-platform';

type Resources = Record<string, Record<string, Record<string, unknown>>>;

/** Who may open a connection to each port of a site's CDS load balancer, from the synthesized JSON: port -> CIDRs. */
function cdsLoadBalancerIngress(topology: Topology, siteId: string): Record<string, string[]> {
  const { stackDirs } = platform;
  const resources = (JSON.parse(readStackJson(stackDirs[siteStackName(topology.platform, siteId)])) as { resource: Resources }).resource;
  const prefix = `${topology.platform}-site-${siteId}-cds-lb-`;
  const groupKeys = Object.entries(resources.aws_security_group ?? {}).filter(([, group]) => group.name_prefix === prefix).map(([key]) => key);
  expect(groupKeys).toHaveLength(1);
  const admitted: Record<string, string[]> = {};
  for (const rule of Object.values(resources.aws_vpc_security_group_ingress_rule ?? {})) {
    if (rule.security_group_id !== `\${aws_security_group.${groupKeys[0]}.id}`) continue;
    expect(rule).toMatchObject({ ip_protocol: 'tcp', from_port: rule.to_port });
    expect(rule.referenced_security_group_id).toBeUndefined();
    (admitted[String(rule.from_port)] ??= []).push(String(rule.cidr_ipv4));
  }
  for (const cidrs of Object.values(admitted)) cidrs.sort();
  return admitted;
}

const topology = parseTopology(JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8')));
const platform = synthPlatform(topology, 'offline');

describe("each site's CDS load balancer, as synthesized", () => {
  it.each(topology.sites.map((site) => site.id))('%s: the local API only from its private subnets, the peer API only from the other sites', (siteId) => {
    const site = topology.sites.find((candidate) => candidate.id === siteId)!;
    const privateSubnets = planSubnets(site.vpcCidr, site.availabilityZones).map((subnet) => subnet.privateCidr).sort();
    const otherSites = topology.sites.filter((other) => other.id !== siteId).map((other) => other.vpcCidr).sort();
    const admitted = cdsLoadBalancerIngress(topology, siteId);
    expect(admitted).toEqual({ '7070': privateSubnets, ...(otherSites.length > 0 ? { '7071': otherSites } : {}) });
    // The hosts that must not reach the local API: the media servers and the SIP nodes (public subnets), other sites.
    const mediaServers = site.mediaServers.map((_server, index) => `${placeMediaServer(site.vpcCidr, site.availabilityZones, index).privateIp}/32`);
    const publicSubnets = planSubnets(site.vpcCidr, site.availabilityZones).map((subnet) => subnet.publicCidr);
    for (const outsider of [...mediaServers, ...publicSubnets, ...otherSites]) {
      expect(admitted['7070'].filter((cidr) => cidrsOverlap(cidr, outsider))).toEqual([]);
    }
    expect(Object.values(admitted).flat()).not.toContain(site.vpcCidr);
  });
});

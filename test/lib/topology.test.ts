import { exampleTopology, topologyIssues } from '../support/topology-issues';
import { parseTopology, parseTopologyJson } from '../../lib/topology';
import { generateTopology } from '../../stacks/generate-topology';


describe('topology validation', () => {
  it('accepts the shipped example and applies defaults', () => {
    const topology = parseTopology(exampleTopology());
    expect(topology.sites).toHaveLength(2);
    expect(topology.sites[0].mediaServers[0].instanceType).toBe('c6i.xlarge');
    expect(topology.sites[0].mediaServers[0].callControl.allowSingleGroup).toBe(false);
    // SIP only from the signalling networks of the voice connector in the site's region (us-west-2).
    expect(topology.sites[0].sipCluster.allowedSourceCidrs).toEqual(['99.77.253.0/24', '99.77.232.0/24']);
  });

  it('accepts the generated benchmark topology: 20 sites, 200 media servers, two data centers', () => {
    const topology = parseTopology(generateTopology({ sites: 20, mediaServersPerSite: 10 }));
    expect(topology.sites).toHaveLength(20);
    expect(topology.sites.flatMap((site) => site.mediaServers)).toHaveLength(200);
    expect(new Set(topology.sites.map((site) => site.region)).size).toBe(5);
    expect(topology.dataCenters.map((dc) => dc.region)).toEqual(['us-east-1', 'us-east-2']);
  });

  it('rejects an unknown data center reference with the full path', () => {
    const input = exampleTopology();
    input.sites[1].mediaServers[0].callControl.dataCenter = 'dc-x';
    expect(topologyIssues(input)).toEqual(['sites[1].mediaServers[0].callControl.dataCenter: unknown data center "dc-x"']);
  });

  it('rejects a data center in the same region as a site it serves', () => {
    const input = exampleTopology();
    input.dataCenters[0].region = 'us-west-2';
    input.dataCenters[0].availabilityZones = ['us-west-2a', 'us-west-2b'];
    const issues = topologyIssues(input);
    expect(issues).toContain('sites[0].mediaServers[0].callControl.dataCenter: data center "east" is in us-west-2, the same region as site "west": call control must run in a different region from its media servers');
    expect(issues).toHaveLength(2);
  });

  it('rejects fewer than two call-control groups unless allowSingleGroup is set', () => {
    const input = exampleTopology();
    input.sites[0].mediaServers[1].callControl.groups.pop();
    expect(topologyIssues(input)).toEqual([
      'sites[0].mediaServers[1].callControl.groups: at least two call-control groups are required so one can carry calls while the other is upgraded (set allowSingleGroup to accept dropped calls during upgrades)',
    ]);
    input.sites[0].mediaServers[1].callControl.allowSingleGroup = true;
    expect(parseTopology(input).sites[0].mediaServers[1].callControl.groups).toHaveLength(1);
  });

  it('rejects duplicate ids at every level', () => {
    const input = exampleTopology();
    input.sites[1].id = 'west';
    input.sites[0].mediaServers[1].id = 'ms-1';
    input.sites[0].mediaServers[0].callControl.groups[1].id = 'blue';
    input.dataCenters.push({ ...input.dataCenters[0], vpcCidr: '10.101.0.0/16' });
    expect(topologyIssues(input)).toEqual(
      expect.arrayContaining([
        'dataCenters[1].id: duplicate id "east"',
        'sites[1].id: duplicate id "west"',
        'sites[0].mediaServers[1].id: duplicate id "ms-1"',
        'sites[0].mediaServers[0].callControl.groups[1].id: duplicate group id "blue"',
      ]),
    );
  });

  it('rejects a site id that is also a data center id', () => {
    const input = exampleTopology();
    input.sites[0].id = 'east';
    expect(topologyIssues(input)).toContain('sites[0].id: "east" is also a data center id (stack names must be unique)');
  });

  it('rejects overlapping CIDRs between any two VPCs', () => {
    const input = exampleTopology();
    input.sites[1].vpcCidr = '10.1.128.0/18';
    expect(topologyIssues(input)).toEqual(['sites[1].vpcCidr: 10.1.128.0/18 overlaps sites[0] (10.1.0.0/16); peered VPCs need distinct address ranges']);
    const withDataCenter = exampleTopology();
    withDataCenter.sites[0].vpcCidr = '10.100.4.0/22';
    expect(topologyIssues(withDataCenter)).toEqual([expect.stringMatching(/^sites\[0\]\.vpcCidr: 10\.100\.4\.0\/22 overlaps dataCenters\[0\] \(10\.100\.0\.0\/16\)/)]);
  });

  it('rejects malformed and out-of-range CIDRs', () => {
    const input = exampleTopology();
    input.sites[0].vpcCidr = '10.1.0.1/16';
    input.sites[1].vpcCidr = '10.0.0.0/8';
    expect(topologyIssues(input)).toEqual([
      'sites[0].vpcCidr: "10.1.0.1/16" is not an IPv4 CIDR block',
      'sites[1].vpcCidr: prefix /8 out of range: a VPC CIDR must be /16 to /22',
    ]);
  });

  it('rejects bad region names and zones of another region', () => {
    const input = exampleTopology();
    input.dataCenters[0].region = 'us-east';
    input.sites[0].availabilityZones = ['us-west-2a', 'us-east-1b'];
    expect(topologyIssues(input)).toEqual(['dataCenters[0].region: not an AWS region name (expected e.g. "us-east-1")']);
    const second = exampleTopology();
    second.sites[0].availabilityZones = ['us-west-2a', 'us-east-1b'];
    expect(topologyIssues(second)).toEqual(['sites[0].availabilityZones[1]: "us-east-1b" is not in region us-west-2']);
  });

  it('rejects empty availability zone lists', () => {
    const input = exampleTopology();
    input.sites[0].availabilityZones = [];
    expect(topologyIssues(input)).toEqual(['sites[0].availabilityZones: at least one availability zone is required']);
    const dataCenter = exampleTopology();
    dataCenter.dataCenters[0].availabilityZones = [];
    expect(topologyIssues(dataCenter)).toEqual(['dataCenters[0].availabilityZones: at least one availability zone is required']);
  });

  it('rejects unknown fields instead of ignoring a typo', () => {
    const input = exampleTopology() as unknown as { sites: Record<string, unknown>[] };
    input.sites[0].mediaServer = [];
    expect(topologyIssues(input)).toEqual([expect.stringMatching(/^sites\[0\]: .*mediaServer/)]);
  });

  it('rejects a PSTN voice connector in a region without one, or without carriers', () => {
    const input = exampleTopology();
    input.sites[1].region = 'eu-north-1';
    input.sites[1].availabilityZones = ['eu-north-1a'];
    input.sites[0].pstn = { enabled: true, terminationCidrAllowList: [] };
    const issues = topologyIssues(input);
    expect(issues).toContain('sites[0].pstn.terminationCidrAllowList: at least one carrier CIDR is required when the PSTN voice connector is enabled');
    expect(issues).toContainEqual(expect.stringMatching(/^sites\[1\]\.pstn\.enabled: region eu-north-1 has no Amazon Chime SDK Voice Connector/));
  });

  it('rejects termination allow-list networks wider than a voice connector accepts', () => {
    const input = exampleTopology();
    input.sites[0].pstn = { enabled: true, terminationCidrAllowList: ['198.51.100.0/24'] };
    expect(topologyIssues(input)).toEqual(['sites[0].pstn.terminationCidrAllowList[0]: 198.51.100.0/24 is too wide: a voice connector accepts /27 to /32 networks']);
  });

  it('rejects ids so long that the media server route table would not fit FreeSWITCH db', () => {
    const input = exampleTopology();
    input.platform = 'p'.repeat(31);
    input.sites[0].id = 's'.repeat(31);
    input.sites[0].mediaServers[0].id = 'm'.repeat(31);
    input.sites[0].mediaServers[0].callControl.groups[0].id = 'b'.repeat(31);
    expect(topologyIssues(input)).toEqual([expect.stringMatching(/^sites\[0\]\.mediaServers\[0\]\.id: route table encodes to \d+ characters; FreeSWITCH's db returns at most 255 .*: shorten the platform, site or media server ids$/)]);
  });

  it('reports invalid JSON with the file name', () => {
    expect(() => parseTopologyJson('{"platform": ', 'broken.json')).toThrow(/^invalid topology:\n  broken\.json: not valid JSON/);
  });
});

import { readFileSync } from 'fs';
import * as path from 'path';
import { parseTopology, placeMediaServer } from '../../lib';
import { MEDIA_SERVER_SIP_PORT, SipError, sipSiteFromTopology } from '../../runtime/sip';
import { generateTopology } from '../../stacks/generate-topology';

const exampleInput: unknown = JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8'));

describe('the SIP view of a topology site', () => {
  it('lists the media servers at their planned addresses on the SIP port', () => {
    expect(sipSiteFromTopology(exampleInput, 'west')).toEqual({
      id: 'west',
      mediaServers: [
        { id: 'ms-1', address: '10.1.128.10', port: MEDIA_SERVER_SIP_PORT },
        { id: 'ms-2', address: '10.1.144.10', port: MEDIA_SERVER_SIP_PORT },
      ],
    });
  });

  it.each([
    ['the example topology', exampleInput],
    ['a generated 20-site topology with 10 media servers per site', generateTopology({ sites: 20, mediaServersPerSite: 10 })],
    ['a generated 5-site topology with 50 media servers per site', generateTopology({ sites: 5, mediaServersPerSite: 50 })],
  ])('places every media server of %s where the infrastructure does (lib/network-plan)', (_, input) => {
    const topology = parseTopology(input);
    for (const site of topology.sites) {
      const expected = site.mediaServers.map((_server, index) => placeMediaServer(site.vpcCidr, site.availabilityZones, index).privateIp);
      expect(sipSiteFromTopology(input, site.id).mediaServers.map((server) => server.address)).toEqual(expected);
    }
  });

  it('names the sites there are when the site is unknown', () => {
    expect(() => sipSiteFromTopology(exampleInput, 'nowhere')).toThrow(new SipError('no site "nowhere" in the topology (sites: west, frankfurt)'));
  });

  it('rejects a topology without the fields it needs, naming the field', () => {
    expect(() => sipSiteFromTopology({ sites: [{ id: 'west', vpcCidr: '10.1.0.0/33', availabilityZones: ['a'], mediaServers: [{ id: 'ms-1' }] }] }, 'west')).toThrow(
      new SipError('topology: sites[0].vpcCidr: not an IPv4 CIDR block'),
    );
    expect(() => sipSiteFromTopology({ platform: 'acme' }, 'west')).toThrow(/^topology: sites: /);
  });
});

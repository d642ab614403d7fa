import { z } from 'zod';
import { MEDIA_SERVER_SIP_PORT } from '../freeswitch-config/media-server-ports';
import { parseCidr } from '../net/ipv4';
import { placeMediaServer } from '../net/network-plan';
import { SipError, parseOrThrow } from './sip-error';
import { SipSite } from './sip-site';

export { MEDIA_SERVER_SIP_PORT };

/**
 * Only the fields of a topology file the SIP cluster needs, checked here because runtime code may not
 * import the topology model of the constructs. Everything else passes through unchecked: the full
 * validation is `voiceplane synth`'s (and CI's).
 */
const topologySchema = z.looseObject({
  sites: z
    .array(
      z.looseObject({
        id: z.string(),
        vpcCidr: z.string().refine((value) => parseCidr(value) !== undefined, 'not an IPv4 CIDR block'),
        availabilityZones: z.array(z.string()).min(1, 'at least one availability zone is required'),
        mediaServers: z.array(z.looseObject({ id: z.string() })).min(1, 'a site needs at least one media server'),
        pstn: z.looseObject({ enabled: z.boolean().optional(), requireEncryption: z.boolean().optional() }).optional(),
      }),
    )
    .min(1, 'at least one site is required'),
});

/** The SIP view of site `siteId` of a parsed topology file: its media servers at their planned addresses. */
export function sipSiteFromTopology(topology: unknown, siteId: string): SipSite {
  const { sites } = parseOrThrow(topologySchema, topology, 'topology');
  const site = sites.find((candidate) => candidate.id === siteId);
  if (!site) throw new SipError(`no site "${siteId}" in the topology (sites: ${sites.map((candidate) => candidate.id).join(', ')})`);
  return {
    id: site.id,
    ...(site.pstn?.enabled === true && site.pstn.requireEncryption === true ? { tls: true } : {}),
    mediaServers: site.mediaServers.map((server, index) => ({
      id: server.id,
      address: placeMediaServer(site.vpcCidr, site.availabilityZones, index).privateIp,
      port: MEDIA_SERVER_SIP_PORT,
    })),
  };
}

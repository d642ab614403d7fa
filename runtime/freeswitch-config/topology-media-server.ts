import { z } from 'zod';
import { parseCidr } from '../net/ipv4';
import { placeMediaServer, planSubnets } from '../net/network-plan';
import { MediaServerConfigError, parseOrThrow } from './config-error';
import type { MediaServerSettingsInput } from './media-server-settings';

const cidr = z.string().refine((value) => parseCidr(value) !== undefined, 'not an IPv4 CIDR block');
const zones = z.array(z.string()).min(1, 'at least one availability zone is required');

/**
 * Only the fields of a topology file a media server's configuration needs, checked here because runtime code may not
 * import the topology model of the constructs. The full validation is `voiceplane synth`'s (and CI's).
 */
const topologySchema = z.looseObject({
  dataCenters: z.array(z.looseObject({ id: z.string(), vpcCidr: cidr, availabilityZones: zones })).min(1, 'at least one data center is required'),
  sites: z
    .array(
      z.looseObject({
        id: z.string(),
        vpcCidr: cidr,
        availabilityZones: zones,
        mediaServers: z.array(z.looseObject({ id: z.string(), callControl: z.looseObject({ dataCenter: z.string() }) })).min(1),
        pstn: z.looseObject({ enabled: z.boolean().optional(), requireEncryption: z.boolean().optional() }).optional(),
      }),
    )
    .min(1, 'at least one site is required'),
});

/**
 * The settings of media server `mediaServerId` of site `siteId`, as its stack renders them: its planned private
 * address; the event socket open to its data center's private subnets (the orchestrator) and the site's private
 * subnets (the CDS collector); SIP open to the site's public subnets (the SIP cluster's nodes).
 */
export function mediaServerSettingsFromTopology(topology: unknown, siteId: string, mediaServerId: string): MediaServerSettingsInput {
  const { sites, dataCenters } = parseOrThrow(topologySchema, topology, 'topology');
  const site = sites.find((candidate) => candidate.id === siteId);
  if (!site) throw new MediaServerConfigError(`no site "${siteId}" in the topology (sites: ${sites.map((candidate) => candidate.id).join(', ')})`);
  const index = site.mediaServers.findIndex((server) => server.id === mediaServerId);
  if (index < 0) {
    throw new MediaServerConfigError(`no media server "${mediaServerId}" in site ${siteId} (media servers: ${site.mediaServers.map((server) => server.id).join(', ')})`);
  }
  const dataCenterId = site.mediaServers[index].callControl.dataCenter;
  const dataCenter = dataCenters.find((candidate) => candidate.id === dataCenterId);
  if (!dataCenter) throw new MediaServerConfigError(`sites.${siteId}.mediaServers.${mediaServerId}: unknown data center "${dataCenterId}"`);
  const siteSubnets = planSubnets(site.vpcCidr, site.availabilityZones);
  return {
    mediaServerId,
    listenIp: placeMediaServer(site.vpcCidr, site.availabilityZones, index).privateIp,
    eslAllowedCidrs: [...planSubnets(dataCenter.vpcCidr, dataCenter.availabilityZones).map((subnet) => subnet.privateCidr), ...siteSubnets.map((subnet) => subnet.privateCidr)],
    sipAllowedCidrs: siteSubnets.map((subnet) => subnet.publicCidr),
    srtp: site.pstn?.enabled === true && site.pstn.requireEncryption === true,
  };
}

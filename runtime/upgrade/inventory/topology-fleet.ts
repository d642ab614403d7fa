import { z } from 'zod';
import { parseCidr } from '../../net/ipv4';
import { MAX_MEDIA_SERVERS_PER_SITE, MAX_VPC_PREFIX, MIN_VPC_PREFIX, placeMediaServer } from '../../net/network-plan';
import { dataCenterStackName } from '../../naming/stack-names';
import { parseInput } from '../request/input-error';
import { UpgradeStepError } from '../flow/upgrade-steps';
import { allowedImageRepositories, allowedImageRepositoriesSchema } from '../../contracts/image-allow-list';

const text = z.string({ error: 'must be a string' }).min(1, 'must not be empty');
const idList = <Item extends z.ZodType>(item: Item, what: string) => z.array(item, { error: `must be a list of ${what}` }).min(1, `must list at least one ${what.replace(/s$/, '')}`);
const vpcCidr = z.string({ error: 'must be a CIDR block' }).refine((value) => {
  const cidr = parseCidr(value);
  return cidr !== undefined && cidr.prefix >= MIN_VPC_PREFIX && cidr.prefix <= MAX_VPC_PREFIX;
}, `must be an IPv4 CIDR block from /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX}`);

/**
 * Only the fields of a topology file the fleet needs, checked here because runtime code may not import the topology
 * model of the constructs. The full validation is `voiceplane synth`'s (and CI's).
 */
const topologySchema = z.looseObject({
  platform: text,
  dataCenters: idList(z.looseObject({ id: text, region: text }), 'data centers'),
  sites: idList(
    z.looseObject({
      id: text,
      vpcCidr,
      availabilityZones: idList(text, 'availability zones').max(4, 'at most four availability zones are supported'),
      mediaServers: idList(z.looseObject({ id: text, callControl: z.looseObject({ dataCenter: text, groups: idList(z.looseObject({ id: text, image: text }), 'groups') }) }), 'media servers').max(
        MAX_MEDIA_SERVERS_PER_SITE,
        `at most ${MAX_MEDIA_SERVERS_PER_SITE} media servers`,
      ),
    }),
    'sites',
  ),
  allowedImageRepositories: allowedImageRepositoriesSchema.optional(),
});

/** A media server at its planned address, with the ids of its call-control groups in topology order. */
export interface ServedMediaServer {
  readonly siteId: string;
  readonly mediaServerId: string;
  readonly privateIp: string;
  readonly groupIds: readonly string[];
}

export interface FleetDataCenter {
  readonly id: string;
  readonly region: string;
  /** The stack that deploys it (and publishes its outputs). */
  readonly stackName: string;
  /** The media servers whose call control it runs, in topology order (sites, then their media servers). */
  readonly mediaServers: readonly ServedMediaServer[];
  /** The image repositories its upgrades may deploy: the platform's allow-list. */
  readonly allowedImageRepositories: readonly string[];
}

/**
 * Every data center of a parsed topology file with the media servers it serves, placed as the stacks place them;
 * throws an `InvalidInput` step error naming the offending field.
 */
export function fleetDataCenters(topology: unknown): FleetDataCenter[] {
  const { platform, dataCenters, sites, ...listed } = parseInput(topologySchema, topology, 'topology');
  const groupImages = sites.flatMap((site) => site.mediaServers.flatMap((server) => server.callControl.groups.map((group) => group.image)));
  const allowed = allowedImageRepositories(listed.allowedImageRepositories, groupImages);
  const served = sites.flatMap((site, siteIndex) =>
    site.mediaServers.map((server, serverIndex) => {
      const dataCenterId = server.callControl.dataCenter;
      if (!dataCenters.some((dataCenter) => dataCenter.id === dataCenterId)) {
        throw new UpgradeStepError('InvalidInput', `topology: sites[${siteIndex}].mediaServers[${serverIndex}].callControl.dataCenter: unknown data center ${JSON.stringify(dataCenterId)}`);
      }
      const mediaServer: ServedMediaServer = {
        siteId: site.id,
        mediaServerId: server.id,
        privateIp: placeMediaServer(site.vpcCidr, site.availabilityZones, serverIndex).privateIp,
        groupIds: server.callControl.groups.map((group) => group.id),
      };
      return { dataCenterId, mediaServer };
    }),
  );
  return dataCenters.map((dataCenter) => ({
    id: dataCenter.id,
    region: dataCenter.region,
    stackName: dataCenterStackName(platform, dataCenter.id),
    mediaServers: served.filter((server) => server.dataCenterId === dataCenter.id).map((server) => server.mediaServer),
    allowedImageRepositories: allowed,
  }));
}

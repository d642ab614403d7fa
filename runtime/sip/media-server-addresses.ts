import { formatIpv4, parseIpv4Cidr } from './ipv4';
import { SipError } from './sip-error';

const SUBNET_NEW_BITS = 4;
const PUBLIC_SUBNET_OFFSET = 8;
const FIRST_MEDIA_SERVER_HOST = 10;

/**
 * The private address of the `serverIndex`-th media server of a site, by the platform's network plan:
 * the VPC is cut into 16 blocks, block 8 + z is the public subnet of zone z, and media servers take
 * host numbers 10, 11, ... there, round-robin over the zones. The infrastructure code places media
 * servers by the same rule (lib/network-plan.ts); test/sip/media-server-addresses.test.ts holds the two
 * to each other, because runtime code may not import the constructs.
 */
export function mediaServerAddress(vpcCidr: string, zoneCount: number, serverIndex: number): string {
  const vpc = parseIpv4Cidr(vpcCidr);
  if (!vpc) throw new SipError(`"${vpcCidr}" is not an IPv4 CIDR block`);
  if (!Number.isInteger(zoneCount) || zoneCount < 1 || zoneCount > PUBLIC_SUBNET_OFFSET) throw new SipError(`a site has 1 to ${PUBLIC_SUBNET_OFFSET} availability zones, got ${zoneCount}`);
  const subnetSize = 2 ** (32 - vpc.prefix - SUBNET_NEW_BITS);
  const zoneIndex = serverIndex % zoneCount;
  const hostNumber = FIRST_MEDIA_SERVER_HOST + Math.floor(serverIndex / zoneCount);
  if (hostNumber >= subnetSize - 1) throw new SipError(`media server ${serverIndex + 1} does not fit in the public subnets of ${vpcCidr}`);
  return formatIpv4(vpc.network + (PUBLIC_SUBNET_OFFSET + zoneIndex) * subnetSize + hostNumber);
}

import { hostOf, subnetOf } from './ipv4';

/**
 * Deterministic address plan of a VPC. Each VPC is cut into 16 equal blocks: block i is the
 * private subnet of availability zone i, block 8 + i its public subnet. Media servers get fixed
 * addresses in the public subnets, assigned round-robin over the zones in topology order, so the
 * data center can admit exactly those addresses without a cross-stack lookup.
 * Appending a media server never moves an existing one; inserting or removing one in the middle does.
 * The Call Data Server's load balancer has a fixed address in each private subnet, so every other
 * site can compute its peer URL from the topology alone.
 */

export const MIN_VPC_PREFIX = 16;
export const MAX_VPC_PREFIX = 22;
const SUBNET_NEW_BITS = 4;
const PUBLIC_SUBNET_OFFSET = 8;
/** AWS reserves the first four addresses of a subnet; the next few are kept for load balancers. */
const FIRST_MEDIA_SERVER_HOST = 10;
/** Host of the Call Data Server's load balancer in each private subnet (one of the load balancer hosts, 4 to 9). */
const CDS_ENDPOINT_HOST = 6;
/** The smallest VPC (/22, one zone) has /26 public subnets: addresses .10 to .62, 53 media servers. */
export const MAX_MEDIA_SERVERS_PER_SITE = 50;

export interface SubnetPlan {
  readonly availabilityZone: string;
  readonly privateCidr: string;
  readonly publicCidr: string;
}

export function planSubnets(vpcCidr: string, availabilityZones: readonly string[]): SubnetPlan[] {
  return availabilityZones.map((availabilityZone, index) => ({
    availabilityZone,
    privateCidr: subnetOf(vpcCidr, SUBNET_NEW_BITS, index),
    publicCidr: subnetOf(vpcCidr, SUBNET_NEW_BITS, PUBLIC_SUBNET_OFFSET + index),
  }));
}

export interface MediaServerPlacement {
  readonly availabilityZone: string;
  /** Index into the VPC's subnet plan. */
  readonly zoneIndex: number;
  readonly privateIp: string;
}

export function placeMediaServer(vpcCidr: string, availabilityZones: readonly string[], serverIndex: number): MediaServerPlacement {
  const zoneIndex = serverIndex % availabilityZones.length;
  const subnet = planSubnets(vpcCidr, availabilityZones)[zoneIndex];
  return {
    availabilityZone: subnet.availabilityZone,
    zoneIndex,
    privateIp: hostOf(subnet.publicCidr, FIRST_MEDIA_SERVER_HOST + Math.floor(serverIndex / availabilityZones.length)),
  };
}


export interface CdsEndpointAddress {
  readonly availabilityZone: string;
  /** Index into the VPC's subnet plan. */
  readonly zoneIndex: number;
  /** Fixed private address of the CDS load balancer in the zone's private subnet. */
  readonly privateIp: string;
}

/**
 * The fixed addresses of a site's Call Data Server load balancer, one per availability zone in zone
 * order: host 6 of each private subnet. Depends only on the VPC CIDR and the zones, so another site
 * computes them without reading this site's state; media servers (public subnets) never move them.
 */
export function planCdsEndpoint(vpcCidr: string, availabilityZones: readonly string[]): CdsEndpointAddress[] {
  return planSubnets(vpcCidr, availabilityZones).map((subnet, zoneIndex) => ({
    availabilityZone: subnet.availabilityZone,
    zoneIndex,
    privateIp: hostOf(subnet.privateCidr, CDS_ENDPOINT_HOST),
  }));
}

import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route } from '@cdktf/provider-aws/lib/route';
import { VpcPeeringConnection } from '@cdktf/provider-aws/lib/vpc-peering-connection';
import { VpcPeeringConnectionAccepterA as VpcPeeringConnectionAccepter } from '@cdktf/provider-aws/lib/vpc-peering-connection-accepter';
import { markComponent } from './component';
import { resolvedOnce } from './resolved-once';
import { cidrsOverlap } from '../runtime/net/ipv4';

export interface PeeredVpc {
  readonly vpcId: string;
  readonly cidrBlock: string;
  /** Route tables that get a route to the other side. */
  readonly routeTableIds: string[];
  /** How many route tables `routeTableIds` holds (it may be an unresolved list). */
  readonly routeTableCount: number;
  readonly region: string;
  /** Provider of this VPC's region. */
  readonly provider: AwsProvider;
}

export interface RegionPeeringProps {
  readonly name: string;
  /** The side that requests the peering (the site; of two sites, the later one in the topology). */
  readonly requester: PeeredVpc;
  /** The side that accepts it (the data center, or the earlier site), in the same region or another. */
  readonly accepter: PeeredVpc;
}

/**
 * The route table ids of each side by index, one expression each: a site's side is the same object in its peering to
 * every data center and every earlier site, so each is resolved once rather than once per route (a hundredth site has
 * 99 peerings).
 */
const routeTableIdsBySide = new WeakMap<PeeredVpc, string[]>();

function routeTableIdAt(side: PeeredVpc, index: number): string {
  let ids = routeTableIdsBySide.get(side);
  if (!ids) {
    ids = Array.from({ length: side.routeTableCount }, (_, at) => resolvedOnce(Fn.element(side.routeTableIds, at)));
    routeTableIdsBySide.set(side, ids);
  }
  return ids[index];
}

/**
 * VPC peering within one account, requested with the requester's provider and accepted with the
 * accepter's, with routes both ways. Works across regions and within one region: the same
 * requester/accepter pair of resources, `peer_region` set only when the regions differ.
 */
export class RegionPeering extends Construct {
  public readonly peeringConnectionId: string;

  constructor(scope: Construct, id: string, props: RegionPeeringProps) {
    super(scope, id);
    markComponent(this, 'peering');
    const { requester, accepter } = props;
    if (cidrsOverlap(requester.cidrBlock, accepter.cidrBlock)) {
      throw new Error(`accepter cidrBlock ${accepter.cidrBlock} overlaps the requester's ${requester.cidrBlock}: AWS refuses to peer overlapping VPCs`);
    }
    const connection = new VpcPeeringConnection(this, 'Connection', {
      provider: requester.provider,
      vpcId: requester.vpcId,
      peerVpcId: accepter.vpcId,
      // Within one region AWS defaults to the requester's region (terraform then computes the attribute).
      peerRegion: accepter.region === requester.region ? undefined : accepter.region,
      autoAccept: false,
      tags: { Name: props.name },
    });
    const acceptance = new VpcPeeringConnectionAccepter(this, 'Accepter', {
      provider: accepter.provider,
      vpcPeeringConnectionId: connection.id,
      autoAccept: true,
      tags: { Name: props.name },
    });
    this.peeringConnectionId = connection.id;

    const routeBothWays = (from: PeeredVpc, to: PeeredVpc, label: string) => {
      for (let index = 0; index < from.routeTableCount; index++) {
        new Route(this, `${label}${index}`, {
          provider: from.provider,
          routeTableId: routeTableIdAt(from, index),
          destinationCidrBlock: to.cidrBlock,
          vpcPeeringConnectionId: connection.id,
          dependsOn: [acceptance],
        });
      }
    };
    routeBothWays(requester, accepter, 'RequesterRoute');
    routeBothWays(accepter, requester, 'AccepterRoute');
  }
}

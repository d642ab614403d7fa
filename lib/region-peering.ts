import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route } from '@cdktf/provider-aws/lib/route';
import { VpcPeeringConnection } from '@cdktf/provider-aws/lib/vpc-peering-connection';
import { VpcPeeringConnectionAccepterA as VpcPeeringConnectionAccepter } from '@cdktf/provider-aws/lib/vpc-peering-connection-accepter';
import { markComponent } from './component';

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
  /** The side that requests the peering (the site). */
  readonly requester: PeeredVpc;
  /** The side that accepts it (the data center), in another region. */
  readonly accepter: PeeredVpc;
}

/** Cross-region VPC peering, requested and accepted each in its own region, with routes both ways. */
export class RegionPeering extends Construct {
  public readonly peeringConnectionId: string;

  constructor(scope: Construct, id: string, props: RegionPeeringProps) {
    super(scope, id);
    markComponent(this, 'peering');
    const { requester, accepter } = props;
    if (requester.region === accepter.region) {
      throw new Error(`accepter must be in another region than the requester (both in ${requester.region})`);
    }
    const connection = new VpcPeeringConnection(this, 'Connection', {
      provider: requester.provider,
      vpcId: requester.vpcId,
      peerVpcId: accepter.vpcId,
      peerRegion: accepter.region,
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
          routeTableId: Fn.element(from.routeTableIds, index),
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

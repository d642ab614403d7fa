import { Construct } from 'constructs';
import { Fn, TerraformOutput, Token } from 'cdktf';
import { MspSite, StateBackend } from '../lib';
import { DeploymentProfile } from './deployment-profile';
import { readStackState } from './stack-state';

/** Outputs a site stack publishes for the site stacks after it in the topology (a contract between stacks). */
const OUTPUT = {
  vpcId: 'vpc_id',
  publicRouteTableId: 'public_route_table_id',
  privateRouteTableIds: 'private_route_table_ids',
} as const;

export function publishSiteOutputs(scope: Construct, site: MspSite): void {
  new TerraformOutput(scope, OUTPUT.vpcId, { value: site.network.vpcId });
  new TerraformOutput(scope, OUTPUT.publicRouteTableId, { value: site.network.publicRouteTableId });
  new TerraformOutput(scope, OUTPUT.privateRouteTableIds, { value: site.network.privateRouteTableIds });
}

export interface SiteReferenceProps {
  /** Stack name of the (earlier) site. */
  readonly stackName: string;
  readonly availabilityZoneCount: number;
  readonly profile: DeploymentProfile;
  /** Where the earlier site's state is: the backend of every stack of the platform. */
  readonly stateBackend: StateBackend;
}

/**
 * A later site's read-only view of an earlier site stack's outputs: through the earlier site's
 * Terraform state in the `aws` profile; in the `offline` profile through placeholders, because
 * terraform refuses to plan with a remote state that was never written.
 */
export class SiteReference extends Construct {
  public readonly vpcId: string;
  public readonly publicRouteTableId: string;
  /** One per availability zone, in zone order. */
  public readonly privateRouteTableIds: string[];
  /** The public route table, then the private ones: every route table of the site's VPC. */
  public readonly routeTableIds: string[];

  constructor(scope: Construct, id: string, props: SiteReferenceProps) {
    super(scope, id);
    if (props.profile === 'offline') {
      this.vpcId = 'vpc-00000siteoffline';
      this.publicRouteTableId = 'rtb-0siteofflinepub';
      this.privateRouteTableIds = Array.from({ length: props.availabilityZoneCount }, (_, index) => `rtb-00siteoffline${index}`);
      this.routeTableIds = [this.publicRouteTableId, ...this.privateRouteTableIds];
      return;
    }
    const state = readStackState(this, 'State', props.stackName, props.stateBackend);
    this.vpcId = state.getString(OUTPUT.vpcId);
    this.publicRouteTableId = state.getString(OUTPUT.publicRouteTableId);
    this.privateRouteTableIds = state.getList(OUTPUT.privateRouteTableIds);
    // A list token cannot be spread: let terraform join the lists.
    this.routeTableIds = Token.asList(Fn.concat([[this.publicRouteTableId], this.privateRouteTableIds]));
  }
}

import { Construct } from 'constructs';
import { Fn, TerraformOutput } from 'cdktf';
import { CentralDataCenter, StateBackend } from '../lib';
import { DeploymentProfile } from './deployment-profile';
import { readStackState } from './stack-state';

/** Outputs a data-center stack publishes for the site stacks (a contract between stacks). */
const OUTPUT = {
  vpcId: 'vpc_id',
  privateRouteTableIds: 'private_route_table_ids',
  callControlZoneId: 'call_control_zone_id',
  archiveTableName: 'archive_table_name',
  archiveTableArn: 'archive_table_arn',
  eslSecretArns: 'esl_secret_arns',
  clusterArn: 'ecs_cluster_arn',
  callControlServiceArns: 'call_control_service_arns',
} as const;

export function publishDataCenterOutputs(scope: Construct, dataCenter: CentralDataCenter): void {
  new TerraformOutput(scope, OUTPUT.vpcId, { value: dataCenter.network.vpcId });
  new TerraformOutput(scope, OUTPUT.privateRouteTableIds, { value: dataCenter.network.privateRouteTableIds });
  new TerraformOutput(scope, OUTPUT.callControlZoneId, { value: dataCenter.privateZoneId });
  new TerraformOutput(scope, OUTPUT.archiveTableName, { value: dataCenter.archiveTableName });
  new TerraformOutput(scope, OUTPUT.archiveTableArn, { value: dataCenter.archiveTableArn });
  new TerraformOutput(scope, OUTPUT.eslSecretArns, { value: dataCenter.eslSecretArns });
  // What `voiceplane inventory` needs besides the topology: the deployed ARNs pin the upgrade to this account.
  new TerraformOutput(scope, OUTPUT.clusterArn, { value: dataCenter.clusterArn });
  new TerraformOutput(scope, OUTPUT.callControlServiceArns, { value: serviceArnsByMediaServer(dataCenter) });
}

/** `{"<site>/<media server>": {"<group>": service ARN}}`. */
function serviceArnsByMediaServer(dataCenter: CentralDataCenter): Record<string, Record<string, string>> {
  const byMediaServer: Record<string, Record<string, string>> = {};
  for (const group of dataCenter.callControlGroups) {
    byMediaServer[group.mediaServer] = { ...byMediaServer[group.mediaServer], [group.groupId]: group.serviceArn };
  }
  return byMediaServer;
}

export interface DataCenterReferenceProps {
  /** Stack name of the data center. */
  readonly stackName: string;
  readonly region: string;
  readonly availabilityZoneCount: number;
  readonly profile: DeploymentProfile;
  /** Where the data center's state is: the backend of every stack of the platform. */
  readonly stateBackend: StateBackend;
}

/**
 * A site's read-only view of a data-center stack's outputs: through the data center's Terraform
 * state in the `aws` profile; in the `offline` profile through placeholders, because terraform
 * refuses to plan with a remote state that was never written.
 */
export class DataCenterReference extends Construct {
  public readonly vpcId: string;
  public readonly privateRouteTableIds: string[];
  public readonly callControlZoneId: string;
  public readonly archiveTableArn: string;
  private readonly eslSecretArns: (siteId: string) => string;

  constructor(scope: Construct, id: string, props: DataCenterReferenceProps) {
    super(scope, id);
    if (props.profile === 'offline') {
      const placeholder = offlinePlaceholders(props);
      this.vpcId = placeholder.vpcId;
      this.privateRouteTableIds = placeholder.privateRouteTableIds;
      this.callControlZoneId = placeholder.callControlZoneId;
      this.archiveTableArn = placeholder.archiveTableArn;
      this.eslSecretArns = placeholder.eslSecretArn;
      return;
    }
    const state = readStackState(this, 'State', props.stackName, props.stateBackend);
    this.vpcId = state.getString(OUTPUT.vpcId);
    this.privateRouteTableIds = state.getList(OUTPUT.privateRouteTableIds);
    this.callControlZoneId = state.getString(OUTPUT.callControlZoneId);
    this.archiveTableArn = state.getString(OUTPUT.archiveTableArn);
    this.eslSecretArns = (siteId) => Fn.lookup(state.get(OUTPUT.eslSecretArns), siteId);
  }

  public eslSecretArn(siteId: string): string {
    return this.eslSecretArns(siteId);
  }
}

function offlinePlaceholders(props: DataCenterReferenceProps) {
  const account = '000000000000';
  return {
    vpcId: 'vpc-0000000000offline',
    privateRouteTableIds: Array.from({ length: props.availabilityZoneCount }, (_, index) => `rtb-00000000offline${index}`),
    callControlZoneId: 'Z0000000000OFFLINE',
    archiveTableArn: `arn:aws:dynamodb:${props.region}:${account}:table/${props.stackName}-cdr-archive`,
    eslSecretArn: (siteId: string) => `arn:aws:secretsmanager:${props.region}:${account}:secret:voiceplane/offline/${siteId}/esl-password-AbCdEf`,
  };
}

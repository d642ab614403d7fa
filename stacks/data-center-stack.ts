import { Construct } from 'constructs';
import { Aspects, TerraformOutput } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { CentralDataCenter, ComponentTags, DataCenter, RequireImdsV2, RestrictOpenIngress, StateBackend, Topology, dataCenterStackName, placeMediaServer, planSubnets, platformImageRepositories } from '../lib';
import { DeploymentProfile } from './deployment-profile';
import { publishDataCenterOutputs } from './data-center-outputs';
import { awsProviderConfig } from './provider-config';
import { SelfContainedStack } from './self-contained-stack';
import { storeStackState } from './stack-state';

/** One central data center: its own region, provider and state. */
export class DataCenterStack extends SelfContainedStack {
  private builtDataCenter?: CentralDataCenter;

  /** The data center's constructs (until the stack is released). */
  public get dataCenter(): CentralDataCenter {
    return this.unlessReleased(this.builtDataCenter);
  }

  constructor(scope: Construct, topology: Topology, dc: DataCenter, profile: DeploymentProfile, stateBackend: StateBackend) {
    const stackName = dataCenterStackName(topology.platform, dc.id);
    super(scope, stackName);
    storeStackState(this, stackName, stateBackend);
    new AwsProvider(this, 'aws', awsProviderConfig(dc.region, profile, { Platform: topology.platform, DataCenter: dc.id }));

    const served = topology.sites.flatMap((site) =>
      site.mediaServers
        .map((server, index) => ({ server, placement: placeMediaServer(site.vpcCidr, site.availabilityZones, index) }))
        .filter(({ server }) => server.callControl.dataCenter === dc.id)
        .map(({ server, placement }) => ({
          siteId: site.id,
          siteRegion: site.region,
          mediaServerId: server.id,
          privateIp: placement.privateIp,
          groups: server.callControl.groups,
        })),
    );
    const servedSites = topology.sites.filter((site) => served.some((server) => server.siteId === site.id));
    this.builtDataCenter = new CentralDataCenter(this, 'DataCenter', {
      platform: topology.platform,
      dataCenterId: dc.id,
      region: dc.region,
      cidrBlock: dc.vpcCidr,
      availabilityZones: dc.availabilityZones,
      mediaServers: served,
      mediaServerCidrs: servedSites.flatMap((site) => planSubnets(site.vpcCidr, site.availabilityZones).map((subnet) => subnet.publicCidr)),
      allowedImageRepositories: platformImageRepositories(topology),
      kmsKeyArn: dc.kmsKeyArn,
      alarmTopicArn: dc.alarms?.snsTopicArn,
    });
    new TerraformOutput(this, 'alarm_topic_arn', { value: this.dataCenter.monitoring.alarmTopic.topicArn });
    publishDataCenterOutputs(this, this.dataCenter);

    Aspects.of(this).add(new ComponentTags());
    Aspects.of(this).add(new RequireImdsV2());
    Aspects.of(this).add(new RestrictOpenIngress());
  }

  public override release(): void {
    super.release();
    this.builtDataCenter = undefined;
  }
}

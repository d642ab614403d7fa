import { Construct } from 'constructs';
import { Aspects, TerraformOutput } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route53ZoneAssociation } from '@cdktf/provider-aws/lib/route53-zone-association';
import { ComponentTags, MspSite, PeeredVpc, RegionPeering, RequireImdsV2, RestrictOpenIngress, ServingDataCenter, Site, StateBackend, Topology, dataCenterStackName, planSubnets, siteStackName } from '../lib';
import { DataCenterReference } from './data-center-outputs';
import { DeploymentProfile } from './deployment-profile';
import { awsProviderConfig } from './provider-config';
import { SiteReference, publishSiteOutputs } from './site-outputs';
import { SelfContainedStack } from './self-contained-stack';
import { storeStackState } from './stack-state';

/**
 * One MSP site: its own region, provider and state. It reads its data centers' outputs (VPC,
 * route tables, DNS zone, secrets) from their state and owns the peering to each of them, so
 * a data center never depends on a site. Likewise it reads the outputs of the sites before it in
 * the topology and owns the peering to each of them (their CDS nodes call each other), so a site
 * never depends on a later one. The CDS peer URLs come from the topology alone.
 */
export class SiteStack extends SelfContainedStack {
  private builtSite?: MspSite;

  /** The site's constructs (until the stack is released). */
  public get site(): MspSite {
    return this.unlessReleased(this.builtSite);
  }

  constructor(scope: Construct, topology: Topology, site: Site, profile: DeploymentProfile, stateBackend: StateBackend) {
    const stackName = siteStackName(topology.platform, site.id);
    super(scope, stackName);
    storeStackState(this, stackName, stateBackend);
    const tags = { Platform: topology.platform, Site: site.id };
    const siteProvider = new AwsProvider(this, 'aws', awsProviderConfig(site.region, profile, tags));

    const dataCenterIds = [...new Set(site.mediaServers.map((server) => server.callControl.dataCenter))];
    const dataCenters = dataCenterIds.map((dcId) => {
      const dc = topology.dataCenters.find((candidate) => candidate.id === dcId);
      if (!dc) throw new Error(`site ${site.id} names unknown data center "${dcId}"`);
      const stackName = dataCenterStackName(topology.platform, dc.id);
      const reference = new DataCenterReference(this, `DataCenter-${dc.id}`, {
        stackName,
        region: dc.region,
        availabilityZoneCount: dc.availabilityZones.length,
        profile,
        stateBackend,
      });
      const provider = new AwsProvider(this, `aws-${dc.id}`, awsProviderConfig(dc.region, profile, tags, dc.id));
      return { dc, reference, provider };
    });

    this.builtSite = new MspSite(this, 'Site', {
      platform: topology.platform,
      site,
      runtimeImage: topology.runtimeImage,
      archiveDataCenterId: dataCenterIds[0],
      peerSites: topology.sites.filter((other) => other.id !== site.id),
      dataCenters: Object.fromEntries(
        dataCenters.map(({ dc, reference }): [string, ServingDataCenter] => [
          dc.id,
          {
            id: dc.id,
            region: dc.region,
            orchestratorCidrs: planSubnets(dc.vpcCidr, dc.availabilityZones).map((subnet) => subnet.privateCidr),
            eslSecretArn: reference.eslSecretArn(site.id),
            archiveTableArn: reference.archiveTableArn,
            kmsKeyArn: dc.kmsKeyArn,
          },
        ]),
      ),
    });

    const network = this.site.network;
    // This site requests every peering it owns, and routes to the other side from all its route tables.
    const siteSide: PeeredVpc = {
      vpcId: network.vpcId,
      cidrBlock: site.vpcCidr,
      routeTableIds: [network.publicRouteTableId, ...network.privateRouteTableIds],
      routeTableCount: 1 + network.privateRouteTableIds.length,
      region: site.region,
      provider: siteProvider,
    };
    for (const { dc, reference, provider } of dataCenters) {
      new RegionPeering(this, `Peering-${dc.id}`, {
        name: `${topology.platform}-${site.id}-${dc.id}`,
        requester: siteSide,
        accepter: {
          vpcId: reference.vpcId,
          cidrBlock: dc.vpcCidr,
          routeTableIds: reference.privateRouteTableIds,
          routeTableCount: dc.availabilityZones.length,
          region: dc.region,
          provider,
        },
      });
      new Route53ZoneAssociation(this, `CallControlZone-${dc.id}`, {
        zoneId: reference.callControlZoneId,
        vpcId: network.vpcId,
        vpcRegion: site.region,
      });
    }

    const siteIndex = topology.sites.findIndex((candidate) => candidate.id === site.id);
    for (const earlierSite of topology.sites.slice(0, Math.max(siteIndex, 0))) {
      const reference = new SiteReference(this, `PeerSite-${earlierSite.id}`, {
        stackName: siteStackName(topology.platform, earlierSite.id),
        availabilityZoneCount: earlierSite.availabilityZones.length,
        profile,
        stateBackend,
      });
      const provider = earlierSite.region === site.region ? siteProvider : new AwsProvider(this, `aws-${earlierSite.id}`, awsProviderConfig(earlierSite.region, profile, tags, earlierSite.id));
      new RegionPeering(this, `SitePeering-${earlierSite.id}`, {
        name: `${topology.platform}-${site.id}-${earlierSite.id}`,
        requester: siteSide,
        accepter: {
          vpcId: reference.vpcId,
          cidrBlock: earlierSite.vpcCidr,
          routeTableIds: reference.routeTableIds,
          routeTableCount: 1 + earlierSite.availabilityZones.length,
          region: earlierSite.region,
          provider,
        },
      });
    }
    publishSiteOutputs(this, this.site);

    new TerraformOutput(this, 'media_servers', {
      value: Object.fromEntries(this.site.mediaServers.map((server, index) => [site.mediaServers[index].id, { private_ip: server.privateIp, public_ip: server.publicIp }])),
    });
    new TerraformOutput(this, 'sip_load_balancer_dns_name', { value: this.site.sipCluster.loadBalancerDnsName });
    // What `voiceplane sip drain|undrain|status --rpc` needs: one Kamailio RPC endpoint per node.
    new TerraformOutput(this, 'sip_rpc_endpoints', { value: this.site.sipCluster.rpcEndpoints });
    new TerraformOutput(this, 'alarm_topic_arn', { value: this.site.monitoring.alarmTopic.topicArn });
    new TerraformOutput(this, 'cds_table_name', { value: this.site.callDataServer.tableName });
    // What the other sites' CDS nodes call (they compute them from the topology; this shows them).
    new TerraformOutput(this, 'cds_peer_urls', { value: this.site.callDataServer.peerUrls });
    if (this.site.pstnGateway) {
      new TerraformOutput(this, 'voice_connector_host_name', { value: this.site.pstnGateway.outboundHostName });
    }

    Aspects.of(this).add(new ComponentTags());
    Aspects.of(this).add(new RequireImdsV2());
    Aspects.of(this).add(new RestrictOpenIngress());
  }

  public override release(): void {
    super.release();
    this.builtSite = undefined;
  }
}

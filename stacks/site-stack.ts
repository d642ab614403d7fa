import { Construct } from 'constructs';
import { Aspects, LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route53ZoneAssociation } from '@cdktf/provider-aws/lib/route53-zone-association';
import { ComponentTags, MspSite, RegionPeering, RequireImdsV2, RestrictOpenIngress, ServingDataCenter, Site, Topology, dataCenterStackName, planSubnets, siteStackName } from '../lib';
import { DataCenterReference } from './data-center-outputs';
import { DeploymentProfile } from './deployment-profile';
import { awsProviderConfig } from './provider-config';

/**
 * One MSP site: its own region, provider and state. It reads its data centers' outputs (VPC,
 * route tables, DNS zone, secrets) from their state and owns the peering to each of them, so
 * a data center never depends on a site.
 */
export class SiteStack extends TerraformStack {
  public readonly site: MspSite;

  constructor(scope: Construct, topology: Topology, site: Site, profile: DeploymentProfile) {
    super(scope, siteStackName(topology.platform, site.id));
    new LocalBackend(this, { path: `terraform.${siteStackName(topology.platform, site.id)}.tfstate` });
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
      });
      const provider = new AwsProvider(this, `aws-${dc.id}`, awsProviderConfig(dc.region, profile, tags, dc.id));
      return { dc, reference, provider };
    });

    this.site = new MspSite(this, 'Site', {
      platform: topology.platform,
      site,
      runtimeImage: topology.runtimeImage,
      archiveDataCenterId: dataCenterIds[0],
      dataCenters: Object.fromEntries(
        dataCenters.map(({ dc, reference }): [string, ServingDataCenter] => [
          dc.id,
          {
            id: dc.id,
            region: dc.region,
            orchestratorCidrs: planSubnets(dc.vpcCidr, dc.availabilityZones).map((subnet) => subnet.privateCidr),
            eslSecretArn: reference.eslSecretArn(site.id),
            archiveTableName: reference.archiveTableName,
            archiveTableArn: reference.archiveTableArn,
          },
        ]),
      ),
    });

    const network = this.site.network;
    for (const { dc, reference, provider } of dataCenters) {
      new RegionPeering(this, `Peering-${dc.id}`, {
        name: `${topology.platform}-${site.id}-${dc.id}`,
        requester: {
          vpcId: network.vpcId,
          cidrBlock: site.vpcCidr,
          routeTableIds: [network.publicRouteTableId, ...network.privateRouteTableIds],
          routeTableCount: 1 + network.privateRouteTableIds.length,
          region: site.region,
          provider: siteProvider,
        },
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

    new TerraformOutput(this, 'media_servers', {
      value: Object.fromEntries(this.site.mediaServers.map((server, index) => [site.mediaServers[index].id, { private_ip: server.privateIp, public_ip: server.publicIp }])),
    });
    new TerraformOutput(this, 'sip_load_balancer_dns_name', { value: this.site.sipCluster.loadBalancerDnsName });
    // What `voiceplane sip drain|undrain|status --rpc` needs: one Kamailio RPC endpoint per node.
    new TerraformOutput(this, 'sip_rpc_endpoints', { value: this.site.sipCluster.rpcEndpoints });
    new TerraformOutput(this, 'cds_table_name', { value: this.site.callDataServer.tableName });
    if (this.site.pstnGateway) {
      new TerraformOutput(this, 'voice_connector_host_name', { value: this.site.pstnGateway.outboundHostName });
    }

    Aspects.of(this).add(new ComponentTags());
    Aspects.of(this).add(new RequireImdsV2());
    Aspects.of(this).add(new RestrictOpenIngress());
  }
}

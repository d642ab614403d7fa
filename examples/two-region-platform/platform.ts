import { App, Aspects, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route53ZoneAssociation } from '@cdktf/provider-aws/lib/route53-zone-association';
import {
  CentralDataCenter,
  ComponentTags,
  MspSite,
  RegionPeering,
  RequireImdsV2,
  RestrictOpenIngress,
  parseTopology,
  placeMediaServer,
  planSubnets,
  platformImageRepositories,
  type Topology,
} from 'voiceplane';

/**
 * One MSP site in Frankfurt whose media server is controlled from a central data center in Virginia. The
 * topology model validates the description (ids, CIDRs, regions, the two call-control groups a blue-green upgrade
 * needs); the constructs build each side in its own stack, region and provider.
 */
export const topology: Topology = parseTopology({
  platform: 'example',
  runtimeImage: 'public.ecr.aws/voiceplane/runtime:0.1.0',
  dataCenters: [{ id: 'virginia', region: 'us-east-1', vpcCidr: '10.100.0.0/16', availabilityZones: ['us-east-1a', 'us-east-1b'] }],
  sites: [
    {
      id: 'frankfurt',
      region: 'eu-central-1',
      vpcCidr: '10.2.0.0/16',
      availabilityZones: ['eu-central-1a', 'eu-central-1b'],
      pstn: { enabled: false },
      sipCluster: { size: 2 },
      cdsPublicKey: 'MCowBQYDK2VwAyEAoOKyxAyhloHGi6vXvnwro6jPp5F4NMImaBxmQjeQ8fY=',
      mediaServers: [
        {
          id: 'ms-1',
          callControl: {
            dataCenter: 'virginia',
            groups: [
              { id: 'blue', instances: 2, image: 'public.ecr.aws/voiceplane/call-control', version: '1.4.0' },
              { id: 'green', instances: 2, image: 'public.ecr.aws/voiceplane/call-control', version: '1.4.0' },
            ],
          },
        },
      ],
    },
  ],
});

const [dataCenter] = topology.dataCenters;
const [site] = topology.sites;

/** Guardrails every voiceplane stack carries: component tags, IMDSv2 only, nothing but SIP and RTP open to the internet. */
function addGuardrails(stack: TerraformStack): void {
  Aspects.of(stack).add(new ComponentTags());
  Aspects.of(stack).add(new RequireImdsV2());
  Aspects.of(stack).add(new RestrictOpenIngress());
}

class DataCenterStack extends TerraformStack {
  readonly dataCenter: CentralDataCenter;

  constructor(app: App) {
    super(app, `${topology.platform}-dc-${dataCenter.id}`);
    new AwsProvider(this, 'aws', { region: dataCenter.region, defaultTags: [{ tags: { Platform: topology.platform, DataCenter: dataCenter.id } }] });
    this.dataCenter = new CentralDataCenter(this, 'DataCenter', {
      platform: topology.platform,
      dataCenterId: dataCenter.id,
      region: dataCenter.region,
      cidrBlock: dataCenter.vpcCidr,
      availabilityZones: dataCenter.availabilityZones,
      mediaServers: site.mediaServers.map((server, index) => ({
        siteId: site.id,
        siteRegion: site.region,
        mediaServerId: server.id,
        privateIp: placeMediaServer(site.vpcCidr, site.availabilityZones, index).privateIp,
        groups: server.callControl.groups,
      })),
      mediaServerCidrs: planSubnets(site.vpcCidr, site.availabilityZones).map((subnet) => subnet.publicCidr),
      allowedImageRepositories: platformImageRepositories(topology),
    });
    addGuardrails(this);
  }
}

class SiteStack extends TerraformStack {
  readonly site: MspSite;

  constructor(app: App, dc: CentralDataCenter) {
    super(app, `${topology.platform}-site-${site.id}`);
    const tags = { Platform: topology.platform, Site: site.id };
    const siteProvider = new AwsProvider(this, 'aws', { region: site.region, defaultTags: [{ tags }] });
    const dataCenterProvider = new AwsProvider(this, 'aws-dc', { region: dataCenter.region, alias: dataCenter.id, defaultTags: [{ tags }] });
    this.site = new MspSite(this, 'Site', {
      platform: topology.platform,
      site,
      runtimeImage: topology.runtimeImage,
      archiveDataCenterId: dataCenter.id,
      dataCenters: {
        [dataCenter.id]: {
          id: dataCenter.id,
          region: dataCenter.region,
          orchestratorCidrs: planSubnets(dataCenter.vpcCidr, dataCenter.availabilityZones).map((subnet) => subnet.privateCidr),
          // References into the data center's stack: CDKTF passes them through its outputs.
          eslSecretArn: dc.eslSecretArns[site.id],
          archiveTableArn: dc.archiveTableArn,
        },
      },
    });
    // The orchestrator reaches the media servers' event socket, and the media servers reach call control, over this peering.
    const network = this.site.network;
    new RegionPeering(this, 'DataCenterPeering', {
      name: `${topology.platform}-${site.id}-${dataCenter.id}`,
      requester: {
        vpcId: network.vpcId,
        cidrBlock: site.vpcCidr,
        routeTableIds: [network.publicRouteTableId, ...network.privateRouteTableIds],
        routeTableCount: 1 + network.privateRouteTableIds.length,
        region: site.region,
        provider: siteProvider,
      },
      accepter: {
        vpcId: dc.network.vpcId,
        cidrBlock: dataCenter.vpcCidr,
        routeTableIds: dc.network.privateRouteTableIds,
        routeTableCount: dataCenter.availabilityZones.length,
        region: dataCenter.region,
        provider: dataCenterProvider,
      },
    });
    // The media servers resolve the call-control load balancers' names in the data center's private zone.
    new Route53ZoneAssociation(this, 'CallControlZone', { zoneId: dc.privateZoneId, vpcId: network.vpcId, vpcRegion: site.region });
    addGuardrails(this);
  }
}

/** Adds both stacks to `app`; the site deploys after the data center it reads from. */
export function buildTwoRegionPlatform(app: App): { readonly dataCenter: DataCenterStack; readonly site: SiteStack } {
  const dataCenterStack = new DataCenterStack(app);
  const siteStack = new SiteStack(app, dataCenterStack.dataCenter);
  siteStack.addDependency(dataCenterStack);
  return { dataCenter: dataCenterStack, site: siteStack };
}

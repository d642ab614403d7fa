import { Construct } from 'constructs';
import { CallDataServer, CdsPeerSite, cdsPeerUrls } from './call-data-server';
import { markComponent } from './component';
import { MediaServer } from './media-server';
import { initialRouteTable } from './initial-route-table';
import { eslPasswordSecretName, shortName } from './naming';
import { placeMediaServer } from '../runtime/net/network-plan';
import { ESL_INBOUND_PORT, SIP_PORT } from './ports';
import { PstnGateway } from './pstn-gateway';
import { SipHaCluster } from './sip-ha-cluster';
import { SiteMonitoring } from './site-monitoring';
import { Site } from './topology';
import { VpcNetwork } from './vpc-network';

/** What a site needs to know of a data center that runs call control for some of its media servers. */
export interface ServingDataCenter {
  readonly id: string;
  readonly region: string;
  /** Subnets of the orchestrator, admitted to the media servers' event socket. */
  readonly orchestratorCidrs: readonly string[];
  /** ESL password secret of this site, held in the data center's region. */
  readonly eslSecretArn: string;
  readonly archiveTableArn: string;
  /**
   * The data center's customer-managed KMS key (of its ESL secrets and archive), if it has one.
   * @default AWS-managed keys
   */
  readonly kmsKeyArn?: string;
}

/** Another site of the platform, as far as this site's Call Data Server needs to know it. */
export interface PeerSite {
  readonly id: string;
  readonly vpcCidr: string;
  /** With `vpcCidr`, they fix the address of the site's CDS ({@link cdsPeerUrls}). */
  readonly availabilityZones: readonly string[];
  /** The site's CDS public key: this site's CDS takes its peer requests only when signed with the matching private key. */
  readonly cdsPublicKey: string;
}

export interface MspSiteProps {
  readonly platform: string;
  /** The site as the topology describes it. */
  readonly site: Site;
  /** Runtime image (CDS node), with tag. */
  readonly runtimeImage: string;
  /** Every data center named by the site's media servers, by id. */
  readonly dataCenters: Readonly<Record<string, ServingDataCenter>>;
  /**
   * The data center whose archive receives this site's call records. The CDS collects the channel
   * events of the media servers whose call control runs in this data center, with the ESL password
   * secret of this site held in its region (`eslSecretArn`): the task holds a single password, and the
   * secrets in the other data centers' regions may hold different ones, so their media servers are
   * not collected.
   */
  readonly archiveDataCenterId: string;
  /**
   * The platform's other sites (a `Site` of the topology fits): the CDS calls each one's CDS at its
   * planned address and admits them from their VPCs. The VPCs must be peered with this site's.
   * @default none (a single-site platform)
   */
  readonly peerSites?: readonly PeerSite[];
}

/**
 * A managed-service-provider site: its VPC, media servers, SIP cluster, optional PSTN voice
 * connector and Call Data Server.
 */
export class MspSite extends Construct {
  public readonly network: VpcNetwork;
  public readonly mediaServers: MediaServer[];
  public readonly sipCluster: SipHaCluster;
  public readonly pstnGateway?: PstnGateway;
  public readonly callDataServer: CallDataServer;
  /** Dashboard, alarms and their topic (the topology's `alarms.snsTopicArn`, or one created). */
  public readonly monitoring: SiteMonitoring;

  constructor(scope: Construct, id: string, props: MspSiteProps) {
    super(scope, id);
    markComponent(this, 'msp-site');
    const { site, platform } = props;
    const name = `${platform}-site-${site.id}`;
    const missing = site.mediaServers.map((server) => server.callControl.dataCenter).filter((dcId) => !props.dataCenters[dcId]);
    if (missing.length > 0) {
      throw new Error(`dataCenters lacks ${[...new Set(missing)].join(', ')}, named by the media servers of site ${site.id}`);
    }
    const archive = props.dataCenters[props.archiveDataCenterId];
    if (!archive) {
      throw new Error(`archiveDataCenterId "${props.archiveDataCenterId}" is not one of dataCenters`);
    }

    const peerSites = props.peerSites ?? [];
    if (peerSites.some((peer) => peer.id === site.id)) {
      throw new Error(`peerSites of site ${site.id} include the site itself`);
    }

    this.network = new VpcNetwork(this, 'Network', { name, cidrBlock: site.vpcCidr, availabilityZones: site.availabilityZones, kmsKeyArn: site.kmsKeyArn });
    const placements = site.mediaServers.map((_, index) => placeMediaServer(site.vpcCidr, site.availabilityZones, index));
    const peers = peerSites.map((peer): CdsPeerSite => ({ siteId: peer.id, vpcCidr: peer.vpcCidr, urls: cdsPeerUrls(peer.vpcCidr, peer.availabilityZones), publicKey: peer.cdsPublicKey }));
    const eventSockets = site.mediaServers
      .map((server, index) => ({ server, placement: placements[index] }))
      .filter(({ server }) => server.callControl.dataCenter === props.archiveDataCenterId)
      .map(({ placement }) => `${placement.privateIp}:${ESL_INBOUND_PORT}`);

    this.callDataServer = new CallDataServer(this, 'CallDataServer', {
      name,
      siteId: site.id,
      region: site.region,
      vpcId: this.network.vpcId,
      vpcCidr: site.vpcCidr,
      subnetIds: this.network.privateSubnetIds,
      availabilityZones: site.availabilityZones,
      runtimeImage: props.runtimeImage,
      archiveTableArn: archive.archiveTableArn,
      peers,
      mediaServerEventSockets: eventSockets,
      eslSecretArn: eventSockets.length > 0 ? archive.eslSecretArn : undefined,
      kmsKeyArn: site.kmsKeyArn,
      dataCenterKmsKeyArn: archive.kmsKeyArn,
    });

    // TLS signalling to the SIP cluster and SRTP to the media servers, as the voice connector then requires.
    const encryptedVoiceConnector = site.pstn.enabled && site.pstn.requireEncryption;
    this.sipCluster = new SipHaCluster(this, 'SipCluster', {
      name: shortName([platform, site.id], 28),
      vpcId: this.network.vpcId,
      vpcCidr: site.vpcCidr,
      publicSubnetIds: this.network.publicSubnetIds,
      size: site.sipCluster.size,
      site: {
        id: site.id,
        ...(encryptedVoiceConnector ? { tls: true } : {}),
        mediaServers: site.mediaServers.map((server, index) => ({ id: server.id, address: placements[index].privateIp, port: SIP_PORT })),
      },
      region: site.region,
      kmsKeyArn: site.kmsKeyArn,
      allowedSourceCidrs: site.sipCluster.allowedSourceCidrs,
      rpcAllowedCidrs: [...new Set(Object.values(props.dataCenters).flatMap((dataCenter) => dataCenter.orchestratorCidrs))],
    });

    // The CDS task runs in the private subnets.
    const cdsSourceCidrs = this.network.subnetPlan.map((subnet) => subnet.privateCidr);
    this.mediaServers = site.mediaServers.map((server, index) => {
      const dataCenter = props.dataCenters[server.callControl.dataCenter];
      const placement = placements[index];
      return new MediaServer(this, `MediaServer-${server.id}`, {
        name: `${name}-${server.id}`,
        mediaServerId: server.id,
        vpcId: this.network.vpcId,
        subnetId: this.network.publicSubnetIds[placement.zoneIndex],
        privateIp: placement.privateIp,
        instanceType: server.instanceType,
        eslAllowedCidrs: dataCenter.orchestratorCidrs,
        eslAllowedSecurityGroupIds: [this.callDataServer.securityGroupId],
        eslSiteSourceCidrs: cdsSourceCidrs,
        sipClusterSecurityGroupId: this.sipCluster.securityGroupId,
        // The SIP cluster's nodes run in the public subnets.
        sipClusterCidrs: this.network.subnetPlan.map((subnet) => subnet.publicCidr),
        eslSecretArn: dataCenter.eslSecretArn,
        eslSecretName: eslPasswordSecretName(platform, site.id),
        eslSecretRegion: dataCenter.region,
        eslSecretKmsKeyArn: dataCenter.kmsKeyArn,
        initialRoutes: initialRouteTable(platform, site.id, server),
        srtp: encryptedVoiceConnector,
        kmsKeyArn: site.kmsKeyArn,
      });
    });

    this.monitoring = new SiteMonitoring(this, 'Monitoring', {
      name,
      siteId: site.id,
      region: site.region,
      topicArn: site.alarms?.snsTopicArn,
      kmsKeyArn: site.kmsKeyArn,
      mediaServers: this.mediaServers.map((server, index) => ({ id: site.mediaServers[index].id, instanceId: server.instanceId })),
      sipLogGroupName: this.sipCluster.logGroup.name,
      cdsService: { clusterName: this.callDataServer.clusterName, serviceName: this.callDataServer.serviceName },
      cdsHasPeers: peerSites.length > 0,
    });

    if (site.pstn.enabled) {
      this.pstnGateway = new PstnGateway(this, 'PstnGateway', {
        name: shortName([platform, site.id], 64),
        region: site.region,
        originationHosts: this.sipCluster.nodePublicIps,
        terminationCidrAllowList: site.pstn.terminationCidrAllowList,
        callingRegions: site.pstn.callingRegions,
        requireEncryption: site.pstn.requireEncryption,
      });
    }
  }
}

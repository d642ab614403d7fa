import { Construct } from 'constructs';
import { ChimeVoiceConnector } from '@cdktf/provider-aws/lib/chime-voice-connector';
import { ChimeVoiceConnectorOrigination } from '@cdktf/provider-aws/lib/chime-voice-connector-origination';
import { ChimeVoiceConnectorTermination } from '@cdktf/provider-aws/lib/chime-voice-connector-termination';
import { parseCidr } from '../runtime/net/ipv4';
import { markComponent } from './component';
import { SIP_PORT } from './ports';
import { MIN_TERMINATION_CIDR_PREFIX, VOICE_CONNECTOR_REGIONS } from './voice-connector-regions';

/** A voice connector takes at most this many origination routes. */
export const MAX_ORIGINATION_ROUTES = 10;
/** SIP over TLS: where an encrypted voice connector sends calls. */
export const SIP_TLS_PORT = 5061;

export interface PstnGatewayProps {
  /** Voice connector name. */
  readonly name: string;
  /** Region of the voice connector; must be one of {@link VOICE_CONNECTOR_REGIONS}. */
  readonly region: string;
  /**
   * Every node of the SIP cluster that receives calls from the PSTN (host name or address, SIP over TCP
   * on 5060, or over TLS on 5061 with `requireEncryption`). All get priority 1 and weight 1: the voice
   * connector spreads calls evenly over them and tries another when one fails. At most {@link MAX_ORIGINATION_ROUTES}.
   */
  readonly originationHosts: readonly string[];
  /** Carrier networks allowed to send calls out through the voice connector. */
  readonly terminationCidrAllowList: readonly string[];
  /** Countries the voice connector may call, ISO 3166 alpha-2. */
  readonly callingRegions: readonly string[];
  /**
   * Maximum calls per second for termination.
   * @default 1
   */
  readonly callsPerSecondLimit?: number;
  /**
   * Require TLS signalling and SRTP media: the voice connector then sends calls over TLS to port 5061 of the
   * origination hosts, which must present a certificate it trusts and offer SRTP, and blocks unencrypted
   * calls sent to it. Off by default because voiceplane's SIP cluster takes SIP over TCP/UDP 5060 only
   * and its media servers plain RTP (see the README, *SIP cluster and PSTN edge*).
   * @default false
   */
  readonly requireEncryption?: boolean;
}

/**
 * The site's voice switch to the PSTN: an Amazon Chime SDK Voice Connector whose origination routes
 * reach every node of the SIP cluster, and whose termination (calls out) admits only the allow-listed
 * carrier networks and calling regions.
 */
export class PstnGateway extends Construct {
  public readonly voiceConnectorId: string;
  /** The connector's host name (`<id>.voiceconnector.chime.aws`): where outbound calls are sent. */
  public readonly outboundHostName: string;

  constructor(scope: Construct, id: string, props: PstnGatewayProps) {
    super(scope, id);
    markComponent(this, 'pstn-gateway');
    if (!VOICE_CONNECTOR_REGIONS.includes(props.region)) {
      throw new Error(`region ${props.region} has no Amazon Chime SDK Voice Connector (available: ${VOICE_CONNECTOR_REGIONS.join(', ')})`);
    }
    if (props.originationHosts.length === 0 || props.originationHosts.length > MAX_ORIGINATION_ROUTES) {
      throw new Error(`originationHosts must name 1 to ${MAX_ORIGINATION_ROUTES} SIP cluster hosts (a voice connector limit), got ${props.originationHosts.length}`);
    }
    if (props.terminationCidrAllowList.length === 0) {
      throw new Error('terminationCidrAllowList must name at least one carrier network');
    }
    const wide = props.terminationCidrAllowList.filter((cidr) => (parseCidr(cidr)?.prefix ?? 0) < MIN_TERMINATION_CIDR_PREFIX);
    if (wide.length > 0) {
      throw new Error(`terminationCidrAllowList entries must be /${MIN_TERMINATION_CIDR_PREFIX} or narrower (a voice connector limit): ${wide.join(', ')}`);
    }

    const voiceConnector = new ChimeVoiceConnector(this, 'VoiceConnector', {
      name: props.name,
      awsRegion: props.region,
      requireEncryption: props.requireEncryption ?? false,
    });
    this.voiceConnectorId = voiceConnector.id;
    this.outboundHostName = voiceConnector.outboundHostName;

    // An encrypted voice connector runs TLS over the route's TCP protocol.
    const originationPort = props.requireEncryption === true ? SIP_TLS_PORT : SIP_PORT;
    new ChimeVoiceConnectorOrigination(this, 'Origination', {
      voiceConnectorId: voiceConnector.id,
      route: props.originationHosts.map((host) => ({ host, port: originationPort, protocol: 'TCP', priority: 1, weight: 1 })),
    });
    new ChimeVoiceConnectorTermination(this, 'Termination', {
      voiceConnectorId: voiceConnector.id,
      cidrAllowList: [...props.terminationCidrAllowList],
      callingRegions: [...props.callingRegions],
      cpsLimit: props.callsPerSecondLimit ?? 1,
    });
  }
}

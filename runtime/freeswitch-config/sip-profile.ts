import { type XmlElement, xmlElement } from '../dialplan/xml-document';
import { MEDIA_SERVER_DIALPLAN_CONTEXT, type MediaServerSettings } from './media-server-settings';
import { settings } from './xml-config';

/** The media server's only SIP profile: calls from the SIP cluster, bridges towards carriers. */
export const SIP_PROFILE_NAME = 'voiceplane';

export interface SipProfileReferences {
  /** ACL admitting the SIP cluster's nodes. */
  readonly inboundAcl: string;
  /** Expression of the public address RTP is announced on. */
  readonly publicIpVariable: string;
}

/**
 * Calls are admitted by source address only (the ACL), never by credentials: no registration, no digest auth, no
 * presence, no transfer by REFER. SIP stays on the private address (the cluster is in the VPC); RTP is announced on
 * the public address because carriers send media straight to the media server.
 */
export function renderSipProfile(config: MediaServerSettings, references: SipProfileReferences): XmlElement {
  return xmlElement('profile', { name: SIP_PROFILE_NAME }, [
    xmlElement('gateways'),
    xmlElement('domains'),
    settings({
      context: MEDIA_SERVER_DIALPLAN_CONTEXT,
      dialplan: 'XML',
      'sip-ip': config.listenIp,
      'sip-port': config.sipPort,
      'ext-sip-ip': config.listenIp,
      'rtp-ip': config.listenIp,
      'ext-rtp-ip': references.publicIpVariable,
      'apply-inbound-acl': references.inboundAcl,
      'auth-calls': false,
      'disable-register': true,
      'accept-blind-reg': false,
      'accept-blind-auth': false,
      'manage-presence': false,
      'disable-transfer': true,
      'enable-3pcc': false,
      'inbound-codec-prefs': 'PCMU,PCMA',
      'outbound-codec-prefs': 'PCMU,PCMA',
      'dtmf-type': 'rfc2833',
      'rtp-timer-name': 'soft',
      'suppress-cng': true,
      'user-agent-string': 'voiceplane',
      'log-auth-failures': true,
    }),
  ]);
}

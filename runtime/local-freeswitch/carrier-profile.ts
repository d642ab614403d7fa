import { renderXml, type XmlElement, xmlElement } from '../dialplan/xml-document';
import { SIP_PROFILE_NAME } from '../freeswitch-config/sip-profile';
import { settings } from '../freeswitch-config/xml-config';

/**
 * For local runs only: a second SIP profile in the same FreeSWITCH that plays the carrier. It places calls into the
 * media server's profile (as the SIP cluster would hand them over) and answers the calls call control bridges out to
 * it, so both legs of a local call are real SIP channels.
 */
export const CARRIER_PROFILE_NAME = 'carrier';
export const CARRIER_CONTEXT = 'carrier';
/** Destinations the carrier answers and holds (parks) until the call ends. */
export const FAR_END_PREFIX = 'farend';

/** The local FreeSWITCH's SIP ports: its media server profile's and its carrier profile's. */
interface LocalSipPorts {
  readonly ports: { readonly sip: number; readonly carrierSip: number };
}

/** The dial string call control bridges to so that a call reaches the carrier's far end (two real SIP legs). */
export function farEndDialString(freeswitch: LocalSipPorts): string {
  return `sofia/${SIP_PROFILE_NAME}/sip:${FAR_END_PREFIX}@127.0.0.1:${freeswitch.ports.carrierSip}`;
}

/** The target of a call from the carrier into the media server's profile, as the SIP cluster hands calls over. */
export function carrierCallTarget(freeswitch: LocalSipPorts, destination = '1000'): string {
  return `sofia/${CARRIER_PROFILE_NAME}/sip:${destination}@127.0.0.1:${freeswitch.ports.sip}`;
}

export function renderCarrierProfile(listenIp: string, sipPort: number): string {
  return `<?xml version="1.0"?>\n${renderXml(
    xmlElement('include', {}, [
      xmlElement('profile', { name: CARRIER_PROFILE_NAME }, [
        xmlElement('gateways'),
        xmlElement('domains'),
        settings({
          context: CARRIER_CONTEXT,
          dialplan: 'XML',
          'sip-ip': listenIp,
          'sip-port': sipPort,
          'ext-sip-ip': listenIp,
          'rtp-ip': listenIp,
          'ext-rtp-ip': listenIp,
          'auth-calls': false,
          'disable-register': true,
          'manage-presence': false,
          'inbound-codec-prefs': 'PCMU,PCMA',
          'outbound-codec-prefs': 'PCMU,PCMA',
          'rtp-timer-name': 'soft',
          'user-agent-string': 'voiceplane-local-carrier',
        }),
      ]),
    ]),
  )}`;
}

export function renderCarrierDialplan(): string {
  const farEnd: XmlElement = xmlElement('extension', { name: 'far_end' }, [
    xmlElement('condition', { field: 'destination_number', expression: `^${FAR_END_PREFIX}` }, [
      xmlElement('action', { application: 'answer' }),
      xmlElement('action', { application: 'park' }),
    ]),
  ]);
  return `<?xml version="1.0"?>\n${renderXml(xmlElement('include', {}, [xmlElement('context', { name: CARRIER_CONTEXT }, [farEnd])]))}`;
}

/** Ports that are part of the platform's contract between its components. */

import { CALL_CONTROL_ESL_PORT } from '../runtime/call-control/call-control-ports';

export { ESL_INBOUND_PORT, RTP_PORTS } from '../runtime/freeswitch-config/media-server-ports';
export { CALL_CONTROL_ESL_PORT, CALL_CONTROL_HEALTH_PORT } from '../runtime/call-control/call-control-ports';
/** SIP signalling between the SIP cluster, the media servers and the voice connector. */
export { MEDIA_SERVER_SIP_PORT as SIP_PORT } from '../runtime/freeswitch-config/media-server-ports';
/** Call Data Server: the local API (the site's clients, with the site token) and the peer API (the other sites' CDS). */
export { CDS_PEER_PORT, CDS_PORT } from '../runtime/commands/cds-serve-flags';

/** Listener port of call-control group `groupIndex` on its media server's load balancer. */
export function callControlListenerPort(groupIndex: number): number {
  return CALL_CONTROL_ESL_PORT + groupIndex;
}

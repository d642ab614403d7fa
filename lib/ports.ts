/** Ports that are part of the platform's contract between its components. */

/** FreeSWITCH inbound Event Socket (orchestrator and CDS collector to media server). */
export const ESL_INBOUND_PORT = 8021;
/** Outbound Event Socket: the media server's `socket` app connects to call control here. */
export const CALL_CONTROL_ESL_PORT = 8084;
/** HTTP `/health` and `/calls` of a call-control task. */
export const CALL_CONTROL_HEALTH_PORT = 8080;
/** SIP signalling between the SIP cluster, the media servers and the voice connector. */
export const SIP_PORT = 5060;
/** FreeSWITCH's default RTP range (switch.conf.xml rtp-start-port / rtp-end-port). */
export const RTP_PORTS = { from: 16384, to: 32768 } as const;
/** Call Data Server HTTP API (local clients and peers). */
export const CDS_PORT = 7070;

/** Listener port of call-control group `groupIndex` on its media server's load balancer. */
export function callControlListenerPort(groupIndex: number): number {
  return CALL_CONTROL_ESL_PORT + groupIndex;
}

/** Ports of a media server that other components depend on: security groups, ACLs, peers and the dialplan agree on them. */

/** FreeSWITCH's inbound Event Socket (orchestrator and CDS collector to media server). */
export const ESL_INBOUND_PORT = 8021;
/** The SIP profile facing the site's SIP cluster (FreeSWITCH's default). */
export const MEDIA_SERVER_SIP_PORT = 5060;
/** RTP ports FreeSWITCH allocates from (switch.conf.xml rtp-start-port / rtp-end-port); the security group opens the same. */
export const RTP_PORTS = { from: 16384, to: 32768 } as const;

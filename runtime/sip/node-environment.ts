/**
 * What differs between the nodes of one SIP cluster is not in kamailio.cfg but in the environment
 * Kamailio starts with (the Debian unit reads /etc/default/kamailio.d/*), so every node and the
 * `voiceplane sip config` output share byte-identical files.
 */

/** Private address the node listens on (SIP, media-server side, RPC). */
export const NODE_ADDRESS_VARIABLE = 'VOICEPLANE_SIP_NODE_ADDRESS';
/** Public address advertised in Via/Record-Route to the PSTN side. */
export const PUBLIC_ADDRESS_VARIABLE = 'VOICEPLANE_SIP_PUBLIC_ADDRESS';
/** Comma-separated CIDRs allowed to call the RPC interface. */
export const RPC_ALLOWED_CIDRS_VARIABLE = 'VOICEPLANE_SIP_RPC_ALLOWED_CIDRS';
/** Comma-separated CIDRs allowed to send SIP to the PSTN-side port (the voice connector's networks). */
export const ALLOWED_SOURCE_CIDRS_VARIABLE = 'VOICEPLANE_SIP_ALLOWED_SOURCE_CIDRS';

export interface NodeEnvironment {
  readonly nodeAddress: string;
  readonly publicAddress: string;
  readonly rpcAllowedCidrs: readonly string[];
  readonly allowedSourceCidrs: readonly string[];
}

export function nodeEnvironmentVariables(environment: NodeEnvironment): Record<string, string> {
  return {
    [NODE_ADDRESS_VARIABLE]: environment.nodeAddress,
    [PUBLIC_ADDRESS_VARIABLE]: environment.publicAddress,
    [RPC_ALLOWED_CIDRS_VARIABLE]: environment.rpcAllowedCidrs.join(','),
    [ALLOWED_SOURCE_CIDRS_VARIABLE]: environment.allowedSourceCidrs.join(','),
  };
}

/**
 * Environment variables that carry secrets into the `voiceplane` process (ECS injects a task's secrets as
 * variables): the constructs name them in task definitions, the CLI reads them.
 */

/** The media servers' Event Socket password (instead of `--password`). */
export const ESL_PASSWORD_VARIABLE = 'VOICEPLANE_ESL_PASSWORD';
/** This site's CDS private key, PKCS#8 PEM (instead of `cds serve --peer-key-file`). */
export const CDS_PEER_KEY_VARIABLE = 'VOICEPLANE_CDS_PEER_KEY';
/** The CDS local API's token, which the site's clients present (instead of `cds serve --local-token-file`). */
export const CDS_LOCAL_TOKEN_VARIABLE = 'VOICEPLANE_CDS_LOCAL_TOKEN';
/** The RPC bearer token of a site's SIP nodes (instead of `sip drain|undrain|status --rpc-token-file`). */
export const SIP_RPC_TOKEN_VARIABLE = 'VOICEPLANE_SIP_RPC_TOKEN';

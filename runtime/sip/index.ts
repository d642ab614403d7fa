export { SipError } from './sip-error';
export { parseSipSite, type SipSite } from './sip-site';
export { KAMAILIO_RPC_PATH, type KamailioSettings, type KamailioSettingsInput, resolveKamailioSettings } from './kamailio-settings';
export { renderDispatcherList } from './dispatcher-list';
export { renderKamailioConfig } from './kamailio-config';
export { DISPATCHER_LIST_FILE, KAMAILIO_CONFIG_FILE, type SipConfigFiles, renderSipConfigFiles } from './sip-config-files';
export { ALLOWED_SOURCE_CIDRS_VARIABLE, NODE_ADDRESS_VARIABLE, type NodeEnvironment, PUBLIC_ADDRESS_VARIABLE, RPC_ALLOWED_CIDRS_VARIABLE, nodeEnvironmentVariables } from './node-environment';
export { MEDIA_SERVER_SIP_PORT, sipSiteFromTopology } from './topology-sip-site';
export { type JsonRpcTransport, KamailioRpc } from './kamailio-rpc';
export { RPC_AUTHORIZATION_DEFINE, RPC_TOKEN_DESCRIPTION, RPC_TOKEN_PATTERN, renderRpcTokenInclude, rpcAuthorization, rpcTokenSchema } from './rpc-token';
export { type DestinationState, type DispatcherDestination, listDestinations } from './dispatcher-state';
export {
  type MaintenanceTarget,
  type MediaServerSipState,
  type NodeState,
  drainMediaServer,
  readMediaServerState,
  undrainMediaServer,
} from './media-server-maintenance';
export { KAMAILIO_LOG_NAME, SIP_NEW_CALL_MARKER, SIP_SERVER_ERROR_MARKER } from './sip-call-log';

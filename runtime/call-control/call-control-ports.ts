/** Ports of a call-control task that other components depend on: load balancers, security groups and the fleet inventory agree on them. */

/** Outbound Event Socket: the media server's `socket` app connects to call control here. */
export const CALL_CONTROL_ESL_PORT = 8084;
/** HTTP `/health` and `/calls` of a call-control task. */
export const CALL_CONTROL_HEALTH_PORT = 8080;

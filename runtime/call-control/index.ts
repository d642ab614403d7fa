export {
  CallControlService,
  DEFAULT_SHUTDOWN_GRACE_MS,
  type BoundPorts,
  type CallControlServiceOptions,
  type ListenAddress,
  type ShutdownSummary,
} from './call-control-service';
export type { CallContext } from './call-context';
export type { CallFlow } from './call-flow';
export { BRIDGE_TARGET_VARIABLE, bridgeTargetSchema, createDefaultCallFlow, defaultCallFlow, type DefaultCallFlowOptions } from './default-call-flow';
export type { ServiceStatus } from './service-status';

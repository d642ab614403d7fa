export {
  canaryPolicyFromFlags,
  canaryPolicySchema,
  parseCanaryHold,
  parseCanaryPolicy,
  parseCanarySteps,
  DEFAULT_CANARY_HOLD,
  type CanaryFlags,
  type CanaryPolicy,
  type CanaryPolicyInput,
  type CanaryThresholds,
} from './canary-policy';
export { groupCounts, NO_CALLS, type CanaryObservation, type GroupCallCounts, type MemberHealth } from './canary-observation';
export { startCanaryWatch, type CanaryMediaServer, type CanaryWatch, type CanaryWatchOptions } from './canary-watch';
export { canaryVerdict, type CanaryVerdict } from './canary-verdict';
export { isFailedHangupCause } from './call-failure';

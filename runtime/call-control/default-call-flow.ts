import { z } from 'zod';
import type { CallContext } from './call-context';
import type { CallFlow } from './call-flow';

/** Channel variable with a dial string the default flow bridges the call to (e.g. `user/1000`). */
export const BRIDGE_TARGET_VARIABLE = 'vp_bridge_target';

export const bridgeTargetSchema = z
  .string()
  .trim()
  .min(1, 'is empty')
  .regex(/^[^\r\n]*$/, 'must be a single line');

export interface DefaultCallFlowOptions {
  /** Dial string for calls without `vp_bridge_target` (FreeSWITCH expands `${...}` in it). @default none: such calls are held */
  readonly bridgeTarget?: string;
}

/**
 * Answers, bridges to `vp_bridge_target` (else the configured target, else only holds the call: the socket application
 * keeps a call it controls, and FreeSWITCH refuses to `park` one), then keeps the call until it ends.
 * Before bridging it sets `hangup_after_bridge`: should this service go away while the call is bridged, the bridge
 * stays up without it, and the caller is hung up when the far end hangs up instead of being routed again.
 */
export function createDefaultCallFlow(options: DefaultCallFlowOptions = {}): CallFlow {
  return async (call) => {
    await call.answer();
    const target = bridgeTarget(call) ?? options.bridgeTarget;
    if (target !== undefined) {
      await call.setVariable('hangup_after_bridge', 'true');
      await call.bridge(target);
    }
    await call.ended;
  };
}

export const defaultCallFlow: CallFlow = createDefaultCallFlow();

/** The validated bridge target; a bad value is logged and treated as absent, so the caller is held, not dropped. */
function bridgeTarget(call: CallContext): string | undefined {
  const raw = call.variable(BRIDGE_TARGET_VARIABLE);
  if (raw === undefined) return undefined;
  const parsed = bridgeTargetSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  call.log.warn('ignoring an invalid bridge target', { problem: `channel variable ${BRIDGE_TARGET_VARIABLE} ${parsed.error.issues[0].message}` });
  return undefined;
}

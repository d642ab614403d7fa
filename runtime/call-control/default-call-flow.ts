import { z } from 'zod';
import type { CallContext } from './call-context';
import type { CallFlow } from './call-flow';

/** Channel variable with a dial string the default flow bridges the call to (e.g. `user/1000`). */
export const BRIDGE_TARGET_VARIABLE = 'vp_bridge_target';

const bridgeTargetSchema = z
  .string()
  .trim()
  .min(1, `channel variable ${BRIDGE_TARGET_VARIABLE} is empty`)
  .regex(/^[^\r\n]*$/, `channel variable ${BRIDGE_TARGET_VARIABLE} must be a single line`);

/** Answers, bridges to `vp_bridge_target` if set (else parks), then keeps the call until the caller hangs up. */
export const defaultCallFlow: CallFlow = async (call) => {
  await call.answer();
  const target = bridgeTarget(call);
  if (target === undefined) await call.park();
  else await call.bridge(target);
  await call.ended;
};

/** The validated bridge target; a bad value is logged and treated as absent, so the caller is parked, not dropped. */
function bridgeTarget(call: CallContext): string | undefined {
  const raw = call.variable(BRIDGE_TARGET_VARIABLE);
  if (raw === undefined) return undefined;
  const parsed = bridgeTargetSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  call.log.warn('ignoring an invalid bridge target, parking the call', { problem: parsed.error.issues[0].message });
  return undefined;
}

import { z } from 'zod';

/** Field schemas shared by the upgrade request, the fleet inventory and the step input. */

const quoted = (value: unknown) => JSON.stringify(value);

export { groupIdSchema, mediaServerIdSchema } from '../../contracts/call-control-ids';
/** The version is the image tag, by the rule the topology and CALL_CONTROL_VERSION use. */
export { imageRepositorySchema as imageSchema, imageTagSchema as versionSchema } from '../../contracts/container-image';

export const portSchema = z.int({ error: 'must be a whole port number' }).min(1, 'must be a port in 1..65535').max(65535, 'must be a port in 1..65535');

/** A list without repeated values; `what` names an element in the error. */
export function uniqueList<Item extends z.ZodType<string>>(item: Item, what: string) {
  return z
    .array(item, { error: 'must be a list' })
    .min(1, `must name at least one ${what}`)
    .superRefine((values, context) => {
      const seen = new Set<string>();
      values.forEach((value, index) => {
        if (seen.has(value)) context.addIssue({ code: 'custom', path: [index], message: `${quoted(value)} is listed twice` });
        seen.add(value);
      });
    });
}

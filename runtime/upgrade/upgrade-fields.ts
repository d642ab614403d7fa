import { z } from 'zod';
import { callControlGroupRouteSchema } from '../dialplan';

/** Field schemas shared by the upgrade request, the fleet inventory and the step input. */

const quoted = (value: unknown) => JSON.stringify(value);

export const groupIdSchema = callControlGroupRouteSchema.shape.id;

const MEDIA_SERVER_ID = /^[a-z0-9][a-z0-9-]{0,62}\/[a-z0-9][a-z0-9-]{0,62}$/;

/** `<site>/<media server>`, as the topology names them (e.g. `west/ms-1`). */
export const mediaServerIdSchema = z
  .string({ error: 'must be text' })
  .regex(MEDIA_SERVER_ID, { error: (issue) => `${quoted(issue.input)} is not SITE/MEDIA-SERVER (lowercase letters, digits and dashes, e.g. west/ms-1)` });

/** An image tag that is also a valid CALL_CONTROL_VERSION of the call-control service. */
export const versionSchema = z.string({ error: 'must be text' }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
  error: (issue) => `${quoted(issue.input)} must be 1-128 letters, digits, '.', '_' or '-' (an image tag), starting with a letter or digit`,
});

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY_HOST = /^[a-zA-Z0-9.-]+(?::[0-9]{1,5})?$/;

/** Why `image` is not a repository reference without tag or digest, or undefined when it is one. */
function imageProblem(image: string): string | undefined {
  if (image.includes('@')) return 'must not include a digest; give the tag as version';
  const components = image.split('/');
  const last = components[components.length - 1];
  if (last.includes(':')) return `must not include a tag (${quoted(last.slice(last.indexOf(':')))}); give the tag as version`;
  const [first, ...rest] = components;
  const registry = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (registry && !REGISTRY_HOST.test(first)) return `registry ${quoted(first)} is not HOST[:PORT]`;
  const path = registry ? rest : components;
  if (!path.every((component) => PATH_COMPONENT.test(component))) return 'path components must be lowercase letters, digits and single separators (. _ __ -)';
  return undefined;
}

/** Image repository without tag, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/call-control`. */
export const imageSchema = z
  .string({ error: 'must be text' })
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .superRefine((image, context) => {
    const problem = imageProblem(image);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: `${quoted(image)} ${problem}` });
  });

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

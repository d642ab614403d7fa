import { z } from 'zod';

/**
 * Ids by which the fleet names call control: one rule each for the topology, the route table, the upgrade request,
 * the fleet inventory and the call-control container's environment, so that what synthesizes also upgrades and starts.
 */

/** A call-control group (`blue`, `green`): also a topology id, so at most 31 characters. */
export const GROUP_ID_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

export const groupIdSchema = z
  .string()
  .regex(GROUP_ID_PATTERN, { error: (issue) => `'${String(issue.input)}' must be lowercase letters, digits and dashes, starting with a letter (at most 31 characters)` });

const MEDIA_SERVER_ID = /^[a-z0-9][a-z0-9-]{0,62}\/[a-z0-9][a-z0-9-]{0,62}$/;

/** `<site>/<media server>`, as the topology names them (e.g. `west/ms-1`). */
export const mediaServerIdSchema = z
  .string({ error: 'must be text' })
  .regex(MEDIA_SERVER_ID, { error: (issue) => `${JSON.stringify(issue.input)} is not SITE/MEDIA-SERVER (lowercase letters, digits and dashes, e.g. west/ms-1)` });


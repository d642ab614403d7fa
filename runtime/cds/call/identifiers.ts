import { z } from 'zod';

/** Site ids follow the topology's rule, so a site's CDS is named like its stack. */
export const siteIdSchema = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be a site id (lowercase letters, digits and dashes, starting with a letter, at most 31 characters)');

/** `<ownerSiteId>:<unique>`: the site that originated the call owns it; the part after the colon is URL-safe. */
export const callIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}:[A-Za-z0-9._~-]{1,128}$/, 'must be <ownerSiteId>:<unique> (unique: 1-128 letters, digits, . _ ~ -)');

export const propertyNameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 letters, digits, . _ -');

/** A local client's name for its registration (the ESL collector uses `esl:<channel uuid>`). */
export const clientIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 letters, digits, . _ : -');

/** The site named by a call id (validated beforehand). */
export function ownerOf(callId: string): string {
  return callId.slice(0, callId.indexOf(':'));
}

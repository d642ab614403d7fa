/** The partition key of a call's items, in a node's table and in the archive. */
export const callPk = (callId: string): string => `CALL#${callId}`;

/**
 * The `dynamodb:LeadingKeys` pattern (StringLike) of the archive items of the calls a site owns (call ids are
 * `SITE:UNIQUE`; the colon keeps `west` from matching `west-2`): a site's role is restricted to it, so it cannot
 * write any other site's records. Pure, so the constructs can use it.
 */
export function ownedArchiveKeys(siteId: string): string {
  return `${callPk(`${siteId}:`)}*`;
}

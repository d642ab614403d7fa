/** Names shared between stacks; deterministic so no stack has to look another one up. */

export { dataCenterStackName, siteStackName } from '../runtime/naming/stack-names';

/** Private DNS zone of a platform's call-control endpoints (one per data center VPC, same name). */
export function callControlZoneName(platform: string): string {
  return `cc.${platform}.internal`;
}

/** DNS name of a media server's call-control endpoint, relative to the zone. */
export function callControlRecordName(siteId: string, mediaServerId: string): string {
  return `${mediaServerId}.${siteId}`;
}

export function callControlEndpointFqdn(platform: string, siteId: string, mediaServerId: string): string {
  return `${callControlRecordName(siteId, mediaServerId)}.${callControlZoneName(platform)}`;
}

/** Secrets Manager name of a site's ESL password (in the data center region that serves it). */
export function eslPasswordSecretName(platform: string, siteId: string): string {
  return `voiceplane/${platform}/${siteId}/esl-password`;
}

/** ECS service (and task-definition family) of one call-control group of one media server. */
export function callControlServiceName(platform: string, siteId: string, mediaServerId: string, groupId: string): string {
  return shortName([platform, siteId, mediaServerId, groupId], 64);
}

/**
 * A short, stable resource name of at most `maxLength` characters: the readable parts, and when
 * they are too long a truncation plus a hash of the whole so two long names never collide.
 */
export function shortName(parts: readonly string[], maxLength: number): string {
  const full = parts.join('-');
  if (full.length <= maxLength) return full;
  const hash = fnv1a(full).toString(36).padStart(7, '0').slice(0, 7);
  return `${full.slice(0, maxLength - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

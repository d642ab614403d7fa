import type { Release } from './deployer';

/** `repository:tag` (the tag after the last ':' that follows the last '/'). */
export function formatImage(release: Release): string {
  return `${release.image}:${release.version}`;
}

/** Splits `repository:tag`; undefined when there is no tag (or a digest is used). */
export function parseImage(reference: string): Release | undefined {
  if (reference.includes('@')) return undefined;
  const colon = reference.lastIndexOf(':');
  if (colon <= reference.lastIndexOf('/') || colon === reference.length - 1) return undefined;
  return { image: reference.slice(0, colon), version: reference.slice(colon + 1) };
}

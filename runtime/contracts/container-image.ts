import { z } from 'zod';

/**
 * Container images by one rule each for the repository and the tag (the version), shared by the topology, the upgrade
 * request and the call-control container's CALL_CONTROL_VERSION: an image the topology accepts can be upgraded to and
 * started. The tag is the version `/health` reports.
 */

const quoted = (value: unknown) => JSON.stringify(value);

/** A tag as registries define it: 1-128 characters, no leading '.' or '-'. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY_HOST = /^[a-zA-Z0-9.-]+(?::[0-9]{1,5})?$/;
const MAX_REPOSITORY_LENGTH = 255;

export const IMAGE_TAG_SYNTAX = "1-128 letters, digits, '_', '.' or '-' (an image tag), not starting with '.' or '-'";

export function isImageTag(text: string): boolean {
  return TAG.test(text);
}

export const imageTagSchema = z.string({ error: 'must be text' }).regex(TAG, { error: (issue) => `${quoted(issue.input)} must be ${IMAGE_TAG_SYNTAX}` });

/** Why `repository` is not an image repository without tag or digest, or undefined when it is one. */
function repositoryProblem(repository: string): string | undefined {
  if (repository === '') return 'must not be empty';
  if (repository.length > MAX_REPOSITORY_LENGTH) return `must be at most ${MAX_REPOSITORY_LENGTH} characters`;
  if (repository.includes('@')) return `${quoted(repository)} must not include a digest; give the tag as version`;
  const components = repository.split('/');
  const last = components[components.length - 1];
  if (last.includes(':')) return `${quoted(repository)} must not include a tag (${quoted(last.slice(last.indexOf(':')))}); give the tag as version`;
  const [first, ...rest] = components;
  const registry = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (registry && !REGISTRY_HOST.test(first)) return `${quoted(repository)} registry ${quoted(first)} is not HOST[:PORT]`;
  const path = registry ? rest : components;
  if (!path.every((component) => PATH_COMPONENT.test(component))) {
    return `${quoted(repository)} path components must be lowercase letters, digits and single separators (. _ __ -)`;
  }
  return undefined;
}

/** Image repository without tag, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/call-control`. */
export const imageRepositorySchema = z.string({ error: 'must be text' }).superRefine((repository, context) => {
  const problem = repositoryProblem(repository);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

export interface ImageReference {
  readonly repository: string;
  readonly tag: string;
}

/** `repository:tag`. */
export function formatImageReference(image: ImageReference): string {
  return `${image.repository}:${image.tag}`;
}

/** Splits `repository:tag` at the last ':' after the last '/'; undefined without a tag. */
export function splitImageReference(reference: string): ImageReference | undefined {
  const colon = reference.lastIndexOf(':');
  if (colon <= reference.lastIndexOf('/')) return undefined;
  return { repository: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

/** `repository:tag`, each part by its own rule (e.g. the runtime image). */
export const imageReferenceSchema = z.string({ error: 'must be text' }).superRefine((reference, context) => {
  const image = splitImageReference(reference);
  const problem =
    image === undefined
      ? `${quoted(reference)} must be an image reference with a tag, e.g. "public.ecr.aws/acme/voiceplane:0.1.0"`
      : repositoryProblem(image.repository) ?? (isImageTag(image.tag) ? undefined : `tag ${quoted(image.tag)} must be ${IMAGE_TAG_SYNTAX}`);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

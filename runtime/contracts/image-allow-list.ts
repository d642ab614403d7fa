import { z } from 'zod';
import { imageRepositorySchema } from './container-image';

/**
 * The image repositories the upgrade orchestrator may deploy: the topology's `allowedImageRepositories`, by default the
 * repositories its call-control groups already run. The topology, the fleet inventory (which carries the list to the
 * step functions and `voiceplane upgrade`), the upgrade request and the ECS deployer apply this one rule: a repository
 * is allowed when it is one of the list, exactly (no prefixes, no registry-wide entries).
 */

/** A list of repositories without repeats. */
export const allowedImageRepositoriesSchema = z
  .array(imageRepositorySchema, { error: 'must be a list of image repositories' })
  .min(1, 'must name at least one image repository')
  .superRefine((repositories, context) => {
    repositories.forEach((repository, index) => {
      if (repositories.indexOf(repository) !== index) context.addIssue({ code: 'custom', path: [index], message: `${JSON.stringify(repository)} is listed twice` });
    });
  });

/** The list a topology allows: its own, or else the repositories of its groups (sorted, each once). */
export function allowedImageRepositories(listed: readonly string[] | undefined, groupImages: readonly string[]): string[] {
  return listed !== undefined ? [...listed] : [...new Set(groupImages)].sort();
}

/** Why `repository` may not be deployed, or undefined when it may (always, without a list). */
export function imageRepositoryRefusal(repository: string, allowed: readonly string[] | undefined): string | undefined {
  if (allowed === undefined || allowed.includes(repository)) return undefined;
  return `${JSON.stringify(repository)} is not an allowed image repository (allowedImageRepositories: ${allowed.join(', ')})`;
}

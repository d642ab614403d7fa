import { z } from 'zod';

/**
 * `aws`: real deployments (credentials from the environment; state in the configured backend, see stacks/state-backend-settings.ts).
 * `offline`: CI plans with no network and dummy credentials: providers skip every AWS call
 * they can, and a site reads placeholder data-center outputs when that state does not exist yet.
 */
export const deploymentProfileSchema = z.enum(['aws', 'offline']);
export type DeploymentProfile = z.infer<typeof deploymentProfileSchema>;

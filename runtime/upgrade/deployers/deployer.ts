import type { DeploymentCheck } from '../flow/upgrade-steps';

/** What runs: an image repository and its tag (the call-control version). */
export interface Release {
  readonly image: string;
  readonly version: string;
}

/** One running member of a group, as the verify step reaches it. */
export interface GroupInstance {
  /** Stable name for reports (task ARN, or host:port). */
  readonly id: string;
  readonly host: string;
  /** Where the media server's `socket` application would connect. */
  readonly eslPort: number;
  /** GET answers {status, version, group, acceptingCalls}. */
  readonly healthUrl: string;
}

/** Deploys one call-control group (ECS service, or local processes). */
export interface GroupDeployer {
  /** The release the group runs now (what a rollback goes back to). */
  current(): Promise<Release>;
  /** Starts rolling `release` out; resolves with an id for `status`. Starting the release already rolling out changes nothing. */
  start(release: Release): Promise<string>;
  status(deploymentId: string): Promise<DeploymentCheck>;
  /** The members running the group's current release. */
  instances(): Promise<GroupInstance[]>;
}

/** The deployer of a media server's group; throws `InvalidInput` for a group the fleet does not have. */
export type DeployerResolver = (mediaServerId: string, groupId: string) => GroupDeployer;

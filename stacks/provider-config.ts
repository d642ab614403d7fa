import { AwsProviderConfig } from '@cdktf/provider-aws/lib/provider';
import { DeploymentProfile } from './deployment-profile';

/** Provider settings for one region; tags every resource with the platform and its owner. */
export function awsProviderConfig(region: string, profile: DeploymentProfile, tags: Record<string, string>, alias?: string): AwsProviderConfig {
  return {
    region,
    alias,
    defaultTags: [{ tags: { ...tags, ManagedBy: 'voiceplane' } }],
    ...(profile === 'offline'
      ? {
          accessKey: 'offline-plan',
          secretKey: 'offline-plan',
          skipCredentialsValidation: true,
          skipRequestingAccountId: true,
          skipMetadataApiCheck: 'true',
          skipRegionValidation: true,
        }
      : {}),
  };
}

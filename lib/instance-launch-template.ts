import { gzipSync } from 'zlib';
import { Construct } from 'constructs';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';

/** EC2's limit on user data, counted after compression. */
const MAX_USER_DATA_BYTES = 16 * 1024;

export interface InstanceLaunchTemplateProps {
  /** Name prefix of the launch template. */
  readonly namePrefix: string;
  /** Name prefix of the instance profile (at most 38 characters). */
  readonly profileNamePrefix: string;
  /** The instances' role. */
  readonly roleName: string;
  /** SSM parameter holding the AMI id, resolved at launch (nothing calls AWS at plan time). */
  readonly amiParameterName: string;
  readonly instanceType: string;
  readonly rootVolumeGiB: number;
  /** The cloud-config, gzipped into the template. */
  readonly userData: string;
  /** Whose user data it is, for the error when it is too large (e.g. "media server ms-1"). */
  readonly userDataOwner: string;
  /** Security groups of the template's instances. @default none: the instance sets them */
  readonly securityGroupIds?: string[];
  /** CloudWatch detailed monitoring. @default false */
  readonly detailedMonitoring?: boolean;
}

/**
 * The launch template every voiceplane instance starts from, with its instance profile: IMDSv2 only (one hop, no
 * tags), an encrypted gp3 root volume, the user data gzipped. Construct ids `InstanceProfile` and `LaunchTemplate`
 * in `scope`, as before this was shared: renaming them would replace the instances' templates.
 */
export function instanceLaunchTemplate(scope: Construct, props: InstanceLaunchTemplateProps): LaunchTemplate {
  const compressed = gzipSync(props.userData, { level: 9 });
  if (compressed.length > MAX_USER_DATA_BYTES) {
    throw new Error(`user data of ${props.userDataOwner} is ${compressed.length} bytes compressed; EC2 accepts at most ${MAX_USER_DATA_BYTES}`);
  }
  const instanceProfile = new IamInstanceProfile(scope, 'InstanceProfile', { namePrefix: props.profileNamePrefix, role: props.roleName });
  return new LaunchTemplate(scope, 'LaunchTemplate', {
    namePrefix: props.namePrefix,
    imageId: `resolve:ssm:${props.amiParameterName}`,
    instanceType: props.instanceType,
    iamInstanceProfile: { arn: instanceProfile.arn },
    ...(props.securityGroupIds ? { vpcSecurityGroupIds: props.securityGroupIds } : {}),
    metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled' },
    blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: props.rootVolumeGiB, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } }],
    ...(props.detailedMonitoring ? { monitoring: { enabled: true } } : {}),
    userData: compressed.toString('base64'),
    updateDefaultVersion: true,
  });
}

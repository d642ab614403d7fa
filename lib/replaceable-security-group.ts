import { Construct } from 'constructs';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';

export interface ReplaceableSecurityGroupProps {
  readonly namePrefix: string;
  /** Says who may reach what: reviewers read it in plans and in the console. */
  readonly description: string;
  readonly vpcId: string;
}

/**
 * A security group whose rules are separate resources, created before the group it replaces is destroyed (a new
 * description or name replaces it without cutting traffic) and emptied of rules when it is destroyed.
 */
export function replaceableSecurityGroup(scope: Construct, id: string, props: ReplaceableSecurityGroupProps): SecurityGroup {
  return new SecurityGroup(scope, id, { ...props, revokeRulesOnDelete: true, lifecycle: { createBeforeDestroy: true } });
}

import { Construct } from 'constructs';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';

/** IAM policy documents as JSON text, and managed-policy attachments. */

export const ECS_TASK_EXECUTION_POLICY_ARN = 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy';
/** Session Manager access instead of SSH keys. */
export const SSM_MANAGED_INSTANCE_POLICY_ARN = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';

export interface PolicyStatement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Record<string, Record<string, string | readonly string[]>>;
}

export function policyDocument(statements: readonly PolicyStatement[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: statements.map((statement) => ({
      Effect: 'Allow',
      Action: [...statement.actions],
      Resource: [...statement.resources],
      ...(statement.conditions ? { Condition: statement.conditions } : {}),
    })),
  });
}

export function assumeRolePolicy(...servicePrincipals: string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: servicePrincipals.length === 1 ? servicePrincipals[0] : servicePrincipals }, Action: 'sts:AssumeRole' }],
  });
}

/** Attaches AWS managed policies to a role (the role's own `managed_policy_arns` is deprecated). */
export function attachManagedPolicies(scope: Construct, idPrefix: string, roleName: string, policyArns: readonly string[]): void {
  policyArns.forEach((policyArn) => {
    new IamRolePolicyAttachment(scope, `${idPrefix}${policyArn.split('/').pop()}`, { role: roleName, policyArn });
  });
}

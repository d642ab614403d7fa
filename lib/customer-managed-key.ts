import { z } from 'zod';
import type { PolicyStatement } from './iam-policy';

/**
 * Customer-managed KMS keys: the optional `kmsKeyArn` of a site or data center encrypts what its stack keeps at rest
 * (DynamoDB tables, CloudWatch log groups, Secrets Manager secrets); without one, AWS-managed keys do.
 */

const KEY_ID = '(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})';
const KMS_KEY_ARN = new RegExp(`^arn:(aws|aws-cn|aws-us-gov):kms:([a-z0-9-]+):\\d{12}:key/${KEY_ID}$`);

/** A key ARN; not an alias, as IAM statements cannot be scoped to one. */
export const kmsKeyArnSchema = z
  .string()
  .regex(KMS_KEY_ARN, 'must be a KMS key ARN, arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (not an alias: IAM policies cannot be scoped to one)');

/** The region of a key ARN, or undefined when it is not one. */
export function kmsKeyRegion(keyArn: string): string | undefined {
  return KMS_KEY_ARN.exec(keyArn)?.[2];
}

/** Throws, naming `prop`, unless `keyArn` is a key ARN of `region` (keys are regional). */
export function validateKmsKeyArn(keyArn: string | undefined, region: string, prop: string): void {
  if (keyArn === undefined) return;
  const keyRegion = kmsKeyRegion(keyArn);
  if (keyRegion === undefined) throw new Error(`${prop} must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID), got "${keyArn}"`);
  if (keyRegion !== region) throw new Error(`${prop} is a key of ${keyRegion}, not of ${region}: KMS keys are regional`);
}

/** The AWS services that use a key on a role's behalf. */
export type KeyUser = 'dynamodb' | 'secretsmanager';

/**
 * What a role needs to read and write data encrypted under `keyArn` through `services` of the key's region: decrypt
 * and new data keys, on that key only and only through those services. None without a key (AWS-managed keys need no
 * grant).
 */
export function kmsKeyStatements(keyArn: string | undefined, services: readonly KeyUser[], access: 'read' | 'read-write' = 'read-write'): PolicyStatement[] {
  if (keyArn === undefined || services.length === 0) return [];
  const [, partition, region] = KMS_KEY_ARN.exec(keyArn) ?? [];
  if (region === undefined) throw new Error(`not a KMS key ARN: "${keyArn}"`);
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return [
    {
      actions: access === 'read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [keyArn],
      conditions: { StringEquals: { 'kms:ViaService': [...new Set(services)].map((service) => `${service}.${region}.${domain}`) } },
    },
  ];
}

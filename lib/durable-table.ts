import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';

export interface DurableTableProps {
  readonly tableName: string;
  /**
   * Attribute holding an epoch-seconds expiry; DynamoDB deletes expired items.
   * @default no TTL
   */
  readonly ttlAttribute?: string;
  /**
   * Refuse `terraform destroy` of the table.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Customer-managed KMS key (ARN, in the table's region) encrypting the table.
   * @default the AWS-managed key of DynamoDB
   */
  readonly kmsKeyArn?: string;
}

/** Partition key attribute of every voiceplane table. */
export const PARTITION_KEY = 'pk';
/** Sort key attribute of every voiceplane table. */
export const SORT_KEY = 'sk';

/**
 * A DynamoDB table for data that must not be lost: on-demand capacity, point-in-time recovery,
 * encryption at rest (a customer-managed key when given), deletion protection, and string `pk`/`sk` keys.
 */
export class DurableTable extends Construct {
  public readonly tableName: string;
  public readonly tableArn: string;

  constructor(scope: Construct, id: string, props: DurableTableProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(props.tableName)) {
      throw new Error(`tableName must be 3-255 characters of letters, digits, _ . -, got "${props.tableName}"`);
    }
    const table = new DynamodbTable(this, 'Table', {
      name: props.tableName,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: PARTITION_KEY,
      rangeKey: SORT_KEY,
      attribute: [
        { name: PARTITION_KEY, type: 'S' },
        { name: SORT_KEY, type: 'S' },
      ],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, ...(props.kmsKeyArn === undefined ? {} : { kmsKeyArn: props.kmsKeyArn }) },
      deletionProtectionEnabled: props.deletionProtection ?? true,
      ...(props.ttlAttribute ? { ttl: { attributeName: props.ttlAttribute, enabled: true } } : {}),
    });
    this.tableName = table.name;
    this.tableArn = table.arn;
  }
}

import { z } from 'zod';
import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { markComponent } from './component';
import { validateKmsKeyArn } from './customer-managed-key';

/** A standard topic's ARN: CloudWatch alarms cannot notify FIFO topics. */
const SNS_TOPIC_ARN = /^arn:(aws|aws-cn|aws-us-gov):sns:([a-z0-9-]+):\d{12}:([A-Za-z0-9_-]{1,256})$/;

export const snsTopicArnSchema = z.string().regex(SNS_TOPIC_ARN, 'must be a standard SNS topic ARN, arn:aws:sns:REGION:ACCOUNT:NAME (not a FIFO topic: alarms cannot notify one)');

/** The region of a topic ARN, or undefined when it is not one. */
export function snsTopicRegion(topicArn: string): string | undefined {
  return SNS_TOPIC_ARN.exec(topicArn)?.[2];
}

/** Throws, naming `prop`, unless `topicArn` is a standard topic of `region` (alarms notify topics of their own region only). */
export function validateSnsTopicArn(topicArn: string | undefined, region: string, prop: string): void {
  if (topicArn === undefined) return;
  const topicRegion = snsTopicRegion(topicArn);
  if (topicRegion === undefined) throw new Error(`${prop} must be a standard SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), got "${topicArn}"`);
  if (topicRegion !== region) throw new Error(`${prop} is a topic of ${topicRegion}, not of ${region}: alarms notify topics of their own region only`);
}

export interface AlarmTopicProps {
  /** Name of the topic created when `topicArn` is not given. */
  readonly name: string;
  /** Region of the alarms (the stack's). */
  readonly region: string;
  /**
   * An existing standard topic of `region` the alarms notify (the operators' paging topic).
   * @default a topic created here
   */
  readonly topicArn?: string;
  /**
   * Customer-managed KMS key (ARN, in `region`) encrypting the created topic; its key policy must let CloudWatch
   * (`cloudwatch.amazonaws.com`) use it (kms:Decrypt, kms:GenerateDataKey*), or alarms cannot publish.
   * @default no server-side encryption: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key
   * (its key policy, which nobody can edit, does not admit CloudWatch); notifications carry alarm states, no secrets
   */
  readonly kmsKeyArn?: string;
}

/** Where the alarms of a site or data center send their state changes: the named topic, or one created for them. */
export class AlarmTopic extends Construct {
  public readonly topicArn: string;
  /** The topic created when none was named. */
  public readonly snsTopic?: SnsTopic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    markComponent(this, 'monitoring');
    validateSnsTopicArn(props.topicArn, props.region, 'topicArn');
    validateKmsKeyArn(props.kmsKeyArn, props.region, 'kmsKeyArn');
    if (props.topicArn !== undefined) {
      this.topicArn = props.topicArn;
      return;
    }
    this.snsTopic = new SnsTopic(this, 'Topic', { name: props.name, ...(props.kmsKeyArn ? { kmsMasterKeyId: props.kmsKeyArn } : {}) });
    this.topicArn = this.snsTopic.arn;
  }
}

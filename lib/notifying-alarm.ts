import { Construct } from 'constructs';
import { CloudwatchMetricAlarm, CloudwatchMetricAlarmConfig } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';

/** What an alarm leaves to its caller; the actions are the topic's. */
export type NotifyingAlarmProps = Omit<CloudwatchMetricAlarmConfig, 'alarmActions' | 'okActions' | 'insufficientDataActions' | 'actionsEnabled'> & {
  /** The topic told when the alarm fires and when it clears. */
  readonly topicArn: string;
};

/** A CloudWatch alarm that notifies `topicArn` of both its alarm and its recovery (an operator learns it is over). */
export function notifyingAlarm(scope: Construct, id: string, props: NotifyingAlarmProps): CloudwatchMetricAlarm {
  const { topicArn, ...alarm } = props;
  return new CloudwatchMetricAlarm(scope, id, { ...alarm, actionsEnabled: true, alarmActions: [topicArn], okActions: [topicArn] });
}

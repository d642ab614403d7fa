import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { AlarmTopic } from './alarm-topic';
import { markComponent } from './component';
import { longTextToken } from './long-text-token';
import { UPGRADE_METRICS_NAMESPACE } from '../runtime/upgrade/state/audit-metrics';
import { DashboardCallControlGroup, dataCenterDashboardBody } from './monitoring-dashboards';
import { notifyingAlarm } from './notifying-alarm';

/** A call-control group as the data center's alarms watch it. */
export interface MonitoredCallControlGroup extends DashboardCallControlGroup {
  /** Construct-id suffix of its alarms, unique in the data center (e.g. `west-ms-1-blue`). */
  readonly key: string;
  /** Tasks the group runs: fewer healthy targets than this is unhealthy. */
  readonly instances: number;
}

export interface DataCenterMonitoringProps {
  /** Prefix of the dashboard, topic and alarm names (the data center's stack name). */
  readonly name: string;
  readonly region: string;
  /**
   * An SNS topic of `region` the alarms notify.
   * @default a topic created here (see {@link AlarmTopic})
   */
  readonly topicArn?: string;
  /**
   * Customer-managed KMS key (ARN, in `region`) of the created topic.
   * @default no server-side encryption of the created topic (see {@link AlarmTopicProps.kmsKeyArn})
   */
  readonly kmsKeyArn?: string;
  readonly groups: readonly MonitoredCallControlGroup[];
}

/**
 * A data center's dashboard and alarms: each call-control group unhealthy (fewer healthy load balancer targets than
 * its tasks), each drain gone past its policy. Every alarm notifies the data center's alarm topic when it fires and
 * clears.
 */
export class DataCenterMonitoring extends Construct {
  public readonly alarmTopic: AlarmTopic;
  public readonly dashboard: CloudwatchDashboard;
  public readonly callControlUnhealthyAlarms: CloudwatchMetricAlarm[];
  public readonly drainOverdueAlarms: CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: DataCenterMonitoringProps) {
    super(scope, id);
    markComponent(this, 'monitoring');
    const keys = props.groups.map((group) => group.key);
    const repeated = keys.find((key, index) => keys.indexOf(key) !== index);
    if (repeated !== undefined) throw new Error(`groups must have distinct keys, "${repeated}" repeats`);
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', { name: `${props.name}-alarms`, region: props.region, topicArn: props.topicArn, kmsKeyArn: props.kmsKeyArn });
    const topicArn = this.alarmTopic.topicArn;

    this.dashboard = new CloudwatchDashboard(this, 'Dashboard', { dashboardName: props.name, dashboardBody: longTextToken(dataCenterDashboardBody({ region: props.region, groups: props.groups })) });

    // The load balancer reports target health every minute while it exists: silence is no evidence of health.
    this.callControlUnhealthyAlarms = props.groups.map((group) =>
      notifyingAlarm(this, `CallControlUnhealthy-${group.key}`, {
        topicArn,
        alarmName: `${props.name}-${group.key}-unhealthy`,
        alarmDescription: `Call-control group ${group.groupId} of ${group.mediaServer}: fewer than ${group.instances} healthy tasks for 3 minutes. Runbook: Dashboards and alarms, call-control group unhealthy.`,
        namespace: 'AWS/NetworkELB',
        metricName: 'HealthyHostCount',
        dimensions: { TargetGroup: group.targetGroupArnSuffix, LoadBalancer: group.loadBalancerArnSuffix },
        statistic: 'Minimum',
        period: 60,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        comparisonOperator: 'LessThanThreshold',
        threshold: group.instances,
        treatMissingData: 'breaching',
      }),
    );

    // The orchestrator publishes DrainOverdue only while it drains: no data is no drain, not an overdue one.
    this.drainOverdueAlarms = props.groups.map((group) =>
      notifyingAlarm(this, `DrainOverdue-${group.key}`, {
        topicArn,
        alarmName: `${props.name}-${group.key}-drain-overdue`,
        alarmDescription: `Upgrade of call-control group ${group.groupId} of ${group.mediaServer}: its drain went past the max-drain policy. Runbook: Dashboards and alarms, drain past its policy.`,
        namespace: UPGRADE_METRICS_NAMESPACE,
        metricName: 'DrainOverdue',
        dimensions: { MediaServer: group.mediaServer, Group: group.groupId },
        statistic: 'Maximum',
        period: 60,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        treatMissingData: 'notBreaching',
      }),
    );
  }
}

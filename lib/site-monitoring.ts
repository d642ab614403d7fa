import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchLogMetricFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SIP_NEW_CALL_MARKER, SIP_SERVER_ERROR_MARKER } from '../runtime/sip';
import { AlarmTopic } from './alarm-topic';
import { markComponent } from './component';
import { allTermsPattern } from './log-filter-pattern';
import { CDS_METRICS_NAMESPACE } from '../runtime/cds/cds-metrics';
import { siteDashboardBody } from './monitoring-dashboards';
import { notifyingAlarm } from './notifying-alarm';

/** The metric filters' pattern for a call attempt and for a 5xx final reply (see runtime/sip/sip-call-log.ts). */
export const SIP_NEW_CALL_PATTERN = allTermsPattern([SIP_NEW_CALL_MARKER]);
export const SIP_SERVER_ERROR_PATTERN = allTermsPattern([SIP_SERVER_ERROR_MARKER]);
export const SIP_NEW_CALLS_METRIC = 'NewCalls';
export const SIP_SERVER_ERRORS_METRIC = 'ServerErrorReplies';

/**
 * Namespace of a site's SIP metrics. Metric filters on unstructured lines cannot set dimensions, so the site is in the
 * namespace: two sites of one region keep their own rates.
 */
export function sipMetricsNamespace(siteId: string): string {
  return `voiceplane/sip/${siteId}`;
}

export interface SiteMonitoringProps {
  /** Prefix of the dashboard, topic and alarm names (the site's stack name). */
  readonly name: string;
  readonly siteId: string;
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
  /** The media servers: id and EC2 instance id (launched as single instances, not through an Auto Scaling group). */
  readonly mediaServers: readonly { readonly id: string; readonly instanceId: string }[];
  /** The SIP nodes' log group, holding Kamailio's call and 5xx lines. */
  readonly sipLogGroupName: string;
  /** The Call Data Server's ECS service (one task), in a cluster with Container Insights. */
  readonly cdsService: { readonly clusterName: string; readonly serviceName: string };
  /**
   * Whether the site's CDS has peers (other sites): only then can a peer fall silent.
   * @default true
   */
  readonly cdsHasPeers?: boolean;
  /**
   * Average CPU (%) over 5 minutes above which a media server alarms.
   * @default 80
   */
  readonly mediaServerCpuThresholdPercent?: number;
  /**
   * Share (%) of new calls ending in a 5xx final reply above which the site alarms (3 minutes out of 5).
   * @default 5
   */
  readonly sipServerErrorRateThresholdPercent?: number;
  /**
   * New calls a minute must have for its 5xx rate to count (a single failed call of a quiet minute is no outage).
   * @default 5
   */
  readonly sipMinimumCallsPerMinute?: number;
}

/**
 * A site's dashboard and alarms: media-server CPU, SIP 5xx rate (counted from the SIP nodes' log lines by metric
 * filters), CDS unhealthy, a CDS peer silent. Every alarm notifies the site's alarm topic when it fires and clears.
 */
export class SiteMonitoring extends Construct {
  public readonly alarmTopic: AlarmTopic;
  public readonly dashboard: CloudwatchDashboard;
  public readonly sipNewCallsMetricFilter: CloudwatchLogMetricFilter;
  public readonly sipServerErrorsMetricFilter: CloudwatchLogMetricFilter;
  public readonly mediaServerCpuAlarms: CloudwatchMetricAlarm[];
  public readonly sipServerErrorRateAlarm: CloudwatchMetricAlarm;
  public readonly cdsUnhealthyAlarm: CloudwatchMetricAlarm;
  public readonly cdsPeerSilentAlarm?: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: SiteMonitoringProps) {
    super(scope, id);
    markComponent(this, 'monitoring');
    const cpuThreshold = props.mediaServerCpuThresholdPercent ?? 80;
    const errorRateThreshold = props.sipServerErrorRateThresholdPercent ?? 5;
    const minimumCalls = props.sipMinimumCallsPerMinute ?? 5;
    if (!(cpuThreshold > 0 && cpuThreshold <= 100)) throw new Error(`mediaServerCpuThresholdPercent must be in (0, 100], got ${cpuThreshold}`);
    if (!(errorRateThreshold > 0 && errorRateThreshold <= 100)) throw new Error(`sipServerErrorRateThresholdPercent must be in (0, 100], got ${errorRateThreshold}`);
    if (!Number.isInteger(minimumCalls) || minimumCalls < 1) throw new Error(`sipMinimumCallsPerMinute must be a positive integer, got ${minimumCalls}`);
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', { name: `${props.name}-alarms`, region: props.region, topicArn: props.topicArn, kmsKeyArn: props.kmsKeyArn });
    const topicArn = this.alarmTopic.topicArn;
    const sipNamespace = sipMetricsNamespace(props.siteId);

    const countLines = (filterId: string, pattern: string, metric: string) =>
      new CloudwatchLogMetricFilter(this, filterId, {
        name: `${props.name}-${metric}`,
        logGroupName: props.sipLogGroupName,
        pattern,
        metricTransformation: { namespace: sipNamespace, name: metric, value: '1', unit: 'Count' },
      });
    this.sipNewCallsMetricFilter = countLines('SipNewCalls', SIP_NEW_CALL_PATTERN, SIP_NEW_CALLS_METRIC);
    this.sipServerErrorsMetricFilter = countLines('SipServerErrors', SIP_SERVER_ERROR_PATTERN, SIP_SERVER_ERRORS_METRIC);

    this.dashboard = new CloudwatchDashboard(this, 'Dashboard', {
      dashboardName: props.name,
      dashboardBody: siteDashboardBody({
        region: props.region,
        siteId: props.siteId,
        mediaServers: props.mediaServers,
        sipNamespace,
        sipNewCallsMetric: SIP_NEW_CALLS_METRIC,
        sipServerErrorsMetric: SIP_SERVER_ERRORS_METRIC,
      }),
    });

    // A stopped media server publishes no CPU: that is not high CPU, and the SIP probes take it out of dispatch.
    this.mediaServerCpuAlarms = props.mediaServers.map((server) =>
      notifyingAlarm(this, `MediaServerCpu-${server.id}`, {
        topicArn,
        alarmName: `${props.name}-${server.id}-cpu`,
        alarmDescription: `Media server ${server.id} of site ${props.siteId}: CPU above ${cpuThreshold}% for 5 minutes. Runbook: Dashboards and alarms, media-server CPU.`,
        namespace: 'AWS/EC2',
        metricName: 'CPUUtilization',
        dimensions: { InstanceId: server.instanceId },
        statistic: 'Average',
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: cpuThreshold,
        treatMissingData: 'notBreaching',
      }),
    );

    // No lines, no calls: a quiet site is not failing (a dead SIP node is seen by the load balancer and the voice connector).
    this.sipServerErrorRateAlarm = notifyingAlarm(this, 'SipServerErrorRate', {
      topicArn,
      alarmName: `${props.name}-sip-5xx-rate`,
      alarmDescription: `Site ${props.siteId}: more than ${errorRateThreshold}% of new calls got a 5xx final reply in 3 of 5 minutes. Runbook: Dashboards and alarms, SIP 5xx rate.`,
      metricQuery: [
        {
          id: 'rate',
          label: '5xx final replies, % of new calls',
          expression: `IF(calls >= ${minimumCalls}, 100 * FILL(errors, 0) / calls, 0)`,
          returnData: true,
        },
        { id: 'calls', metric: { namespace: sipNamespace, metricName: SIP_NEW_CALLS_METRIC, stat: 'Sum', period: 60 } },
        { id: 'errors', metric: { namespace: sipNamespace, metricName: SIP_SERVER_ERRORS_METRIC, stat: 'Sum', period: 60 } },
      ],
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: errorRateThreshold,
      treatMissingData: 'notBreaching',
    });

    // Container Insights reports the service every minute: silence means the service or its cluster is gone.
    this.cdsUnhealthyAlarm = notifyingAlarm(this, 'CdsUnhealthy', {
      topicArn,
      alarmName: `${props.name}-cds-unhealthy`,
      alarmDescription: `Site ${props.siteId}: the Call Data Server has had no running task for 3 minutes (it stops while its health check fails). Runbook: Dashboards and alarms, CDS unhealthy.`,
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensions: { ClusterName: props.cdsService.clusterName, ServiceName: props.cdsService.serviceName },
      statistic: 'Minimum',
      period: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparisonOperator: 'LessThanThreshold',
      threshold: 1,
      treatMissingData: 'breaching',
    });

    if (props.cdsHasPeers ?? true) {
      // A node that publishes nothing is down, which the unhealthy alarm reports; it says nothing about its peers.
      this.cdsPeerSilentAlarm = notifyingAlarm(this, 'CdsPeerSilent', {
        topicArn,
        alarmName: `${props.name}-cds-peer-silent`,
        alarmDescription: `Site ${props.siteId}: the Call Data Server has seen a peer silent or unhealthy for 5 minutes. Runbook: Dashboards and alarms, CDS peer silent.`,
        namespace: CDS_METRICS_NAMESPACE,
        metricName: 'PeersUnhealthy',
        dimensions: { Site: props.siteId },
        statistic: 'Maximum',
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: 0,
        treatMissingData: 'notBreaching',
      });
    }
  }
}

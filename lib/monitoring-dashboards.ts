/**
 * The CloudWatch dashboard bodies of a data center and of a site (pure: the constructs pass them to
 * `aws_cloudwatch_dashboard`). Values may be Terraform references (instance ids, load balancer ARN suffixes).
 */

import { CALL_CONTROL_METRICS_NAMESPACE } from '../runtime/call-control/call-control-metrics';
import { CDS_METRICS_NAMESPACE } from '../runtime/cds/cds-metrics';
import { UPGRADE_METRICS_NAMESPACE } from '../runtime/upgrade/state/audit-metrics';

/** Every EMF publisher of the runtime flushes once a minute: one point per task and minute. */
const PERIOD_SECONDS = 60;
const WIDGET_WIDTH = 12;
const WIDGET_HEIGHT = 6;
/** CloudWatch refuses a graph widget with more metrics (a data center's per-group widgets reach it past 250 media servers). */
export const MAX_METRICS_PER_WIDGET = 500;

/** One line of a metric widget: namespace, name, dimension name/value pairs, then options. */
type MetricLine = readonly (string | Record<string, unknown>)[];

interface MetricWidget {
  readonly title: string;
  readonly metrics: readonly MetricLine[];
  /** @default 'Sum' */
  readonly stat?: string;
}

/** A metric line; `options.stat` and `label` override the widget's. */
export function metricLine(namespace: string, name: string, dimensions: Readonly<Record<string, string>>, options: Record<string, unknown> = {}): MetricLine {
  const line: (string | Record<string, unknown>)[] = [namespace, name, ...Object.entries(dimensions).flat()];
  return Object.keys(options).length > 0 ? [...line, options] : line;
}

/** A widget with more metrics than one graph may hold, as consecutive widgets titled `(1 of N)`, `(2 of N)`... */
function withinMetricLimit(widget: MetricWidget): MetricWidget[] {
  const parts = Math.ceil(widget.metrics.length / MAX_METRICS_PER_WIDGET);
  if (parts <= 1) return [widget];
  return Array.from({ length: parts }, (_, part) => ({
    ...widget,
    title: `${widget.title} (${part + 1} of ${parts})`,
    metrics: widget.metrics.slice(part * MAX_METRICS_PER_WIDGET, (part + 1) * MAX_METRICS_PER_WIDGET),
  }));
}

/** Lays the widgets out two to a row. */
function dashboardBody(region: string, widgets: readonly MetricWidget[]): string {
  return JSON.stringify({
    widgets: widgets.flatMap(withinMetricLimit).map((widget, index) => ({
      type: 'metric',
      x: (index % 2) * WIDGET_WIDTH,
      y: Math.floor(index / 2) * WIDGET_HEIGHT,
      width: WIDGET_WIDTH,
      height: WIDGET_HEIGHT,
      properties: { title: widget.title, region, view: 'timeSeries', stacked: false, period: PERIOD_SECONDS, stat: widget.stat ?? 'Sum', metrics: widget.metrics },
    })),
  });
}

/** One call-control group of one media server, as the data center's dashboard shows it. */
export interface DashboardCallControlGroup {
  readonly groupId: string;
  /** `<site>/<media server>`, the orchestrator's MediaServer dimension. */
  readonly mediaServer: string;
  readonly clusterName: string;
  readonly serviceName: string;
  /** `arn_suffix` of the group's target group and of its media server's load balancer (AWS/NetworkELB dimensions). */
  readonly targetGroupArnSuffix: string;
  readonly loadBalancerArnSuffix: string;
}

export interface DataCenterDashboardInput {
  readonly region: string;
  readonly groups: readonly DashboardCallControlGroup[];
}

/**
 * Call control per group id (ActiveCalls, CallsStarted, FailedFlows: every task of the group id adds its own), drains
 * per media server and group (CallsLeft, DrainSeconds), and the health of each group's ECS service: running tasks and
 * healthy load balancer targets.
 */
export function dataCenterDashboardBody(input: DataCenterDashboardInput): string {
  const groupIds = [...new Set(input.groups.map((group) => group.groupId))];
  const perGroupId = (name: string) => groupIds.map((groupId) => metricLine(CALL_CONTROL_METRICS_NAMESPACE, name, { Group: groupId }, { label: groupId }));
  const perGroup = (namespace: string, name: string) =>
    input.groups.map((group) => metricLine(namespace, name, { MediaServer: group.mediaServer, Group: group.groupId }, { label: `${group.mediaServer} ${group.groupId}` }));
  return dashboardBody(input.region, [
    { title: 'Active calls per group', metrics: perGroupId('ActiveCalls') },
    { title: 'Calls started per minute, per group', metrics: perGroupId('CallsStarted') },
    { title: 'Failed call flows per minute, per group', metrics: perGroupId('FailedFlows') },
    { title: 'Drains: calls left', metrics: perGroup(UPGRADE_METRICS_NAMESPACE, 'CallsLeft'), stat: 'Minimum' },
    { title: 'Drains: seconds draining', metrics: perGroup(UPGRADE_METRICS_NAMESPACE, 'DrainSeconds'), stat: 'Maximum' },
    {
      title: 'Call-control services: running tasks',
      stat: 'Minimum',
      metrics: input.groups.map((group) =>
        metricLine('ECS/ContainerInsights', 'RunningTaskCount', { ClusterName: group.clusterName, ServiceName: group.serviceName }, { label: `${group.mediaServer} ${group.groupId}` }),
      ),
    },
    {
      title: 'Call-control groups: healthy load balancer targets',
      stat: 'Minimum',
      metrics: input.groups.map((group) =>
        metricLine('AWS/NetworkELB', 'HealthyHostCount', { TargetGroup: group.targetGroupArnSuffix, LoadBalancer: group.loadBalancerArnSuffix }, { label: `${group.mediaServer} ${group.groupId}` }),
      ),
    },
  ]);
}

export interface SiteDashboardInput {
  readonly region: string;
  readonly siteId: string;
  /** Media server id and EC2 instance id, in topology order. */
  readonly mediaServers: readonly { readonly id: string; readonly instanceId: string }[];
  /** Namespace and names of the metrics the SIP nodes' log metric filters publish. */
  readonly sipNamespace: string;
  readonly sipNewCallsMetric: string;
  readonly sipServerErrorsMetric: string;
}

/** Media-server CPU, SIP calls and 5xx replies with their rate, and the Call Data Server's own metrics. */
export function siteDashboardBody(input: SiteDashboardInput): string {
  const cds = (name: string, options: Record<string, unknown> = {}) => metricLine(CDS_METRICS_NAMESPACE, name, { Site: input.siteId }, options);
  return dashboardBody(input.region, [
    {
      title: 'Media servers: CPU utilization (%)',
      stat: 'Average',
      metrics: input.mediaServers.map((server) => metricLine('AWS/EC2', 'CPUUtilization', { InstanceId: server.instanceId }, { label: server.id })),
    },
    {
      title: 'SIP: new calls and 5xx final replies per minute',
      metrics: [metricLine(input.sipNamespace, input.sipNewCallsMetric, {}, { id: 'calls', label: 'new calls' }), metricLine(input.sipNamespace, input.sipServerErrorsMetric, {}, { id: 'errors', label: '5xx final replies' })],
    },
    {
      title: 'SIP: 5xx rate (% of new calls)',
      metrics: [
        [{ expression: '100 * FILL(errors, 0) / calls', label: '5xx rate', id: 'rate' }],
        metricLine(input.sipNamespace, input.sipNewCallsMetric, {}, { id: 'calls', visible: false }),
        metricLine(input.sipNamespace, input.sipServerErrorsMetric, {}, { id: 'errors', visible: false }),
      ],
    },
    { title: 'CDS: peers healthy and unhealthy', stat: 'Maximum', metrics: [cds('PeersHealthy', { label: 'healthy' }), cds('PeersUnhealthy', { label: 'unhealthy' })] },
    { title: 'CDS: propagation delay (ms, highest per minute)', stat: 'Maximum', metrics: [cds('PropagationDelay')] },
    { title: 'CDS: pending peer deliveries', stat: 'Maximum', metrics: [cds('PendingDeliveries')] },
    { title: 'CDS: archive writes and failures per minute', metrics: [cds('ArchiveWrites', { label: 'writes' }), cds('ArchiveFailures', { label: 'failures' })] },
  ]);
}

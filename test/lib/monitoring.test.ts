import { gunzipSync } from 'zlib';
import { App, TerraformStack } from 'cdktf';
import { exampleTopology, topologyIssues } from '../support/topology-issues';
import { AlarmTopic, SIP_NEW_CALL_PATTERN, SIP_SERVER_ERROR_PATTERN, parseTopology, type TopologyInput } from '../../lib';
import { renderCloudWatchAgentConfig } from '../../lib/cloudwatch-agent';
import { matchesAllTermsPattern } from '../../lib/log-filter-pattern';
import { dataCenterDashboardBody, siteDashboardBody } from '../../lib/monitoring-dashboards';
import { readStackJson, synthPlatform } from '../support/synth-platform';

const WEST_TOPIC = 'arn:aws:sns:us-west-2:123456789012:acme-paging';
const WEST_KEY = 'arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555';

type Resource = Record<string, unknown>;
type Resources = Record<string, Record<string, Resource>>;
interface StackJson {
  readonly resource: Resources;
  readonly output: Record<string, { value: unknown }>;
}

function synthesized(input: TopologyInput): Record<string, StackJson> {
  const stackDirs = synthPlatform(parseTopology(input), 'offline').stackDirs;
  return Object.fromEntries(Object.entries(stackDirs).map(([name, dir]) => [name, JSON.parse(readStackJson(dir)) as StackJson]));
}

const all = (stack: StackJson, type: string) => Object.values(stack.resource[type] ?? {});
const pathOf = (resource: Resource) => String((resource['//'] as { metadata?: { path?: string } } | undefined)?.metadata?.path ?? '');
/** `${type.name.attribute}` of the one resource of `type` whose construct path ends with `suffix`. */
function reference(stack: StackJson, type: string, suffix: string, attribute: string): string {
  const names = Object.entries(stack.resource[type] ?? {}).filter(([, resource]) => pathOf(resource).endsWith(suffix)).map(([name]) => name);
  if (names.length !== 1) throw new Error(`expected one ${type} at ${suffix}, found ${names.length}`);
  return `\${${type}.${names[0]}.${attribute}}`;
}
const alarmsOf = (stack: StackJson) => all(stack, 'aws_cloudwatch_metric_alarm');
const alarmNamed = (stack: StackJson, name: string) => {
  const found = alarmsOf(stack).find((alarm) => alarm.alarm_name === name);
  if (!found) throw new Error(`no alarm ${name}; have ${alarmsOf(stack).map((alarm) => alarm.alarm_name).join(', ')}`);
  return found;
};

describe('dashboards and alarms of the example platform (default: a topic per stack)', () => {
  const stacks = synthesized(exampleTopology());
  const dc = stacks['acme-dc-east'];
  const west = stacks['acme-site-west'];
  const frankfurt = stacks['acme-site-frankfurt'];

  it('creates one alarm topic per stack, without server-side encryption when no customer key is given, and outputs its ARN', () => {
    for (const [stack, name] of [[dc, 'acme-dc-east-alarms'], [west, 'acme-site-west-alarms'], [frankfurt, 'acme-site-frankfurt-alarms']] as const) {
      expect(all(stack, 'aws_sns_topic')).toEqual([expect.objectContaining({ name })]);
      expect(all(stack, 'aws_sns_topic')[0].kms_master_key_id).toBeUndefined();
      expect(stack.output.alarm_topic_arn.value).toBe(reference(stack, 'aws_sns_topic', '/AlarmTopic/Topic', 'arn'));
    }
  });

  it('sends every alarm and its recovery to the stack topic, and nowhere else', () => {
    for (const stack of [dc, west, frankfurt]) {
      const topic = reference(stack, 'aws_sns_topic', '/AlarmTopic/Topic', 'arn');
      expect(alarmsOf(stack).length).toBeGreaterThan(0);
      for (const alarm of alarmsOf(stack)) {
        expect({ name: alarm.alarm_name, actions: alarm.alarm_actions, ok: alarm.ok_actions, enabled: alarm.actions_enabled }).toEqual({ name: alarm.alarm_name, actions: [topic], ok: [topic], enabled: true });
      }
    }
  });

  it('alarms when a call-control group has fewer healthy load balancer targets than tasks for 3 minutes (no data counts as unhealthy)', () => {
    const alarm = alarmNamed(dc, 'acme-dc-east-west-ms-1-blue-unhealthy');
    expect(alarm).toMatchObject({
      namespace: 'AWS/NetworkELB',
      metric_name: 'HealthyHostCount',
      dimensions: {
        TargetGroup: reference(dc, 'aws_lb_target_group', '/Group-west-ms-1-blue/TargetGroup', 'arn_suffix'),
        LoadBalancer: reference(dc, 'aws_lb', '/Endpoint-west-ms-1/LoadBalancer', 'arn_suffix'),
      },
      statistic: 'Minimum',
      period: 60,
      evaluation_periods: 3,
      datapoints_to_alarm: 3,
      comparison_operator: 'LessThanThreshold',
      threshold: 2,
      treat_missing_data: 'breaching',
    });
    // One per group of every media server the data center serves: 2 sites x 2 media servers x 2 groups.
    expect(alarmsOf(dc).filter((candidate) => String(candidate.alarm_name).endsWith('-unhealthy'))).toHaveLength(8);
  });

  it('alarms as soon as the orchestrator reports a drain past its policy; silence (no drain) is fine', () => {
    expect(alarmNamed(dc, 'acme-dc-east-frankfurt-ms-2-green-drain-overdue')).toMatchObject({
      namespace: 'voiceplane/upgrades',
      metric_name: 'DrainOverdue',
      dimensions: { MediaServer: 'frankfurt/ms-2', Group: 'green' },
      statistic: 'Maximum',
      period: 60,
      evaluation_periods: 1,
      comparison_operator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      treat_missing_data: 'notBreaching',
    });
  });

  it("shows call control per group, drains and the groups' service health on the data center's dashboard", () => {
    const [dashboard] = all(dc, 'aws_cloudwatch_dashboard');
    expect(dashboard.dashboard_name).toBe('acme-dc-east');
    const body = JSON.parse(String(dashboard.dashboard_body)) as { widgets: { properties: { title: string; region: string; metrics: unknown[][] } }[] };
    const metrics = body.widgets.flatMap((widget) => widget.properties.metrics);
    expect(metrics).toContainEqual(['voiceplane/call-control', 'ActiveCalls', 'Group', 'blue', { label: 'blue' }]);
    expect(metrics).toContainEqual(['voiceplane/call-control', 'FailedFlows', 'Group', 'green', { label: 'green' }]);
    expect(metrics).toContainEqual(['voiceplane/upgrades', 'CallsLeft', 'MediaServer', 'west/ms-1', 'Group', 'blue', { label: 'west/ms-1 blue' }]);
    expect(metrics).toContainEqual(['voiceplane/upgrades', 'DrainSeconds', 'MediaServer', 'west/ms-1', 'Group', 'blue', { label: 'west/ms-1 blue' }]);
    expect(metrics).toContainEqual(['ECS/ContainerInsights', 'RunningTaskCount', 'ClusterName', reference(dc, 'aws_ecs_cluster', '/DataCenter/Cluster', 'name'), 'ServiceName', 'acme-west-ms-1-blue', { label: 'west/ms-1 blue' }]);
    expect(new Set(body.widgets.map((widget) => widget.properties.region))).toEqual(new Set(['us-east-1']));
  });

  it('alarms on each media server\'s CPU (its EC2 instance: no Auto Scaling group) above 80% for 5 minutes', () => {
    expect(alarmNamed(west, 'acme-site-west-ms-2-cpu')).toMatchObject({
      namespace: 'AWS/EC2',
      metric_name: 'CPUUtilization',
      dimensions: { InstanceId: reference(west, 'aws_instance', '/MediaServer-ms-2/Instance', 'id') },
      statistic: 'Average',
      period: 60,
      evaluation_periods: 5,
      datapoints_to_alarm: 5,
      comparison_operator: 'GreaterThanThreshold',
      threshold: 80,
      treat_missing_data: 'notBreaching',
    });
  });

  it("counts new calls and 5xx final replies from the SIP nodes' log group, and alarms on the 5xx rate", () => {
    const logGroup = reference(west, 'aws_cloudwatch_log_group', '/SipCluster/LogGroup', 'name');
    expect(all(west, 'aws_cloudwatch_log_metric_filter').map(({ log_group_name, pattern, metric_transformation }) => ({ log_group_name, pattern, metric_transformation }))).toEqual([
      { log_group_name: logGroup, pattern: '"voiceplane-sip-new-call"', metric_transformation: { namespace: 'voiceplane/sip/west', name: 'NewCalls', value: '1', unit: 'Count' } },
      { log_group_name: logGroup, pattern: '"voiceplane-sip-5xx"', metric_transformation: { namespace: 'voiceplane/sip/west', name: 'ServerErrorReplies', value: '1', unit: 'Count' } },
    ]);
    const alarm = alarmNamed(west, 'acme-site-west-sip-5xx-rate');
    expect(alarm).toMatchObject({ evaluation_periods: 5, datapoints_to_alarm: 3, comparison_operator: 'GreaterThanThreshold', threshold: 5, treat_missing_data: 'notBreaching' });
    expect(alarm.metric_query).toEqual([
      expect.objectContaining({ id: 'rate', expression: 'IF(calls >= 5, 100 * FILL(errors, 0) / calls, 0)', return_data: true }),
      expect.objectContaining({ id: 'calls', metric: expect.objectContaining({ namespace: 'voiceplane/sip/west', metric_name: 'NewCalls', stat: 'Sum', period: 60 }) }),
      expect.objectContaining({ id: 'errors', metric: expect.objectContaining({ namespace: 'voiceplane/sip/west', metric_name: 'ServerErrorReplies', stat: 'Sum', period: 60 }) }),
    ]);
  });

  it('alarms when the CDS has no running task for 3 minutes (no data counts), and when it sees a peer silent for 5', () => {
    expect(alarmNamed(west, 'acme-site-west-cds-unhealthy')).toMatchObject({
      namespace: 'ECS/ContainerInsights',
      metric_name: 'RunningTaskCount',
      dimensions: { ClusterName: reference(west, 'aws_ecs_cluster', '/CallDataServer/Cluster', 'name'), ServiceName: reference(west, 'aws_ecs_service', '/CallDataServer/Service', 'name') },
      comparison_operator: 'LessThanThreshold',
      threshold: 1,
      evaluation_periods: 3,
      treat_missing_data: 'breaching',
    });
    expect(alarmNamed(west, 'acme-site-west-cds-peer-silent')).toMatchObject({
      namespace: 'voiceplane/cds',
      metric_name: 'PeersUnhealthy',
      dimensions: { Site: 'west' },
      statistic: 'Maximum',
      period: 60,
      evaluation_periods: 5,
      datapoints_to_alarm: 5,
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
      treat_missing_data: 'notBreaching',
    });
  });

  it("ships each host's logs to a log group of its own, which its role may write and nothing else", () => {
    for (const [host, group] of [['/MediaServer-ms-1/', '/voiceplane/media-server/acme-site-west-ms-1'], ['/SipCluster/', '/voiceplane/sip/acme-west']]) {
      const logGroup = all(west, 'aws_cloudwatch_log_group').find((candidate) => pathOf(candidate).includes(host) && pathOf(candidate).endsWith('/LogGroup'))!;
      expect(logGroup).toMatchObject({ name: group, retention_in_days: 30 });
      const policy = all(west, 'aws_iam_role_policy').find((candidate) => pathOf(candidate).includes(host) && pathOf(candidate).endsWith('/LogShippingPolicy'))!;
      expect(JSON.parse(String(policy.policy)).Statement).toEqual([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${reference(west, 'aws_cloudwatch_log_group', `${host}LogGroup`, 'arn')}:*`] },
      ]);
      expect(policy.role).toBe(reference(west, 'aws_iam_role', `${host}Role`, 'id'));
    }
  });

  it("puts the CloudWatch agent's configuration in the hosts' user data: their log files into their group", () => {
    const userData = (suffix: string) => {
      const template = all(west, 'aws_launch_template').find((candidate) => pathOf(candidate).endsWith(suffix))!;
      return gunzipSync(Buffer.from(String(template.user_data), 'base64')).toString('utf8');
    };
    expect(userData('/MediaServer-ms-1/LaunchTemplate')).toContain(
      indent(renderCloudWatchAgentConfig([{ filePath: '/var/log/freeswitch/freeswitch.log', logGroupName: '/voiceplane/media-server/acme-site-west-ms-1' }, { filePath: '/var/log/cloud-init-output.log', logGroupName: '/voiceplane/media-server/acme-site-west-ms-1' }])),
    );
    expect(userData('/SipCluster/LaunchTemplate')).toContain(
      indent(renderCloudWatchAgentConfig([{ filePath: '/var/log/kamailio/kamailio.log', logGroupName: '/voiceplane/sip/acme-west' }, { filePath: '/var/log/cloud-init-output.log', logGroupName: '/voiceplane/sip/acme-west' }])),
    );
  });

  it("shows media-server CPU, the SIP 5xx rate and the CDS metrics on the site's dashboard", () => {
    const [dashboard] = all(frankfurt, 'aws_cloudwatch_dashboard');
    const body = JSON.parse(String(dashboard.dashboard_body)) as { widgets: { properties: { region: string; metrics: unknown[][] } }[] };
    const metrics = body.widgets.flatMap((widget) => widget.properties.metrics);
    expect(metrics).toContainEqual(['AWS/EC2', 'CPUUtilization', 'InstanceId', reference(frankfurt, 'aws_instance', '/MediaServer-ms-1/Instance', 'id'), { label: 'ms-1' }]);
    expect(metrics).toContainEqual([{ expression: '100 * FILL(errors, 0) / calls', label: '5xx rate', id: 'rate' }]);
    for (const name of ['PeersHealthy', 'PeersUnhealthy', 'PropagationDelay', 'PendingDeliveries', 'ArchiveWrites', 'ArchiveFailures']) {
      expect(metrics.some((line) => line[0] === 'voiceplane/cds' && line[1] === name && line[2] === 'Site' && line[3] === 'frankfurt')).toBe(true);
    }
    expect(new Set(body.widgets.map((widget) => widget.properties.region))).toEqual(new Set(['eu-central-1']));
  });
});

const indent = (text: string) => text.trimEnd().split('\n').map((line) => `      ${line}`).join('\n');

describe('a named alarm topic', () => {
  it('is used as is: no topic created, alarms and the output name it', () => {
    const input = exampleTopology();
    input.sites[0].alarms = { snsTopicArn: WEST_TOPIC };
    const west = synthesized(input)['acme-site-west'];
    expect(all(west, 'aws_sns_topic')).toEqual([]);
    expect(west.output.alarm_topic_arn.value).toBe(WEST_TOPIC);
    for (const alarm of alarmsOf(west)) expect(alarm.alarm_actions).toEqual([WEST_TOPIC]);
  });

  it("of another region than its site's, or not a topic ARN, is refused with one line naming the field", () => {
    const otherRegion = exampleTopology();
    otherRegion.sites[1].alarms = { snsTopicArn: WEST_TOPIC };
    expect(topologyIssues(otherRegion)).toEqual(['sites[1].alarms.snsTopicArn: the topic is in us-west-2, not in eu-central-1: alarms notify topics of their own region only']);
    const fifo = exampleTopology();
    fifo.dataCenters[0].alarms = { snsTopicArn: 'arn:aws:sns:us-east-1:123456789012:paging.fifo' };
    expect(topologyIssues(fifo)).toEqual(['dataCenters[0].alarms.snsTopicArn: must be a standard SNS topic ARN, arn:aws:sns:REGION:ACCOUNT:NAME (not a FIFO topic: alarms cannot notify one)']);
  });

  it('is checked by the construct too', () => {
    const stack = new TerraformStack(new App(), 'test');
    expect(() => new AlarmTopic(stack, 'Topic', { name: 'x', region: 'eu-central-1', topicArn: WEST_TOPIC })).toThrow(
      'topicArn is a topic of us-west-2, not of eu-central-1: alarms notify topics of their own region only',
    );
  });
});

describe('a created topic with a customer-managed key', () => {
  it('is encrypted with the site key', () => {
    const input = exampleTopology();
    input.sites[0].kmsKeyArn = WEST_KEY;
    const west = synthesized(input)['acme-site-west'];
    expect(all(west, 'aws_sns_topic')).toEqual([expect.objectContaining({ name: 'acme-site-west-alarms', kms_master_key_id: WEST_KEY })]);
    expect(all(west, 'aws_cloudwatch_log_group').find((group) => group.name === '/voiceplane/sip/acme-west')).toMatchObject({ kms_key_id: WEST_KEY });
  });
});

describe('dashboard bodies (pure)', () => {
  it('lay widgets out two to a row, all in the given region', () => {
    const body = JSON.parse(siteDashboardBody({ region: 'us-west-2', siteId: 'west', mediaServers: [{ id: 'ms-1', instanceId: 'i-1' }], sipNamespace: 'voiceplane/sip/west', sipNewCallsMetric: 'NewCalls', sipServerErrorsMetric: 'ServerErrorReplies' }));
    expect(body.widgets.map((widget: { x: number; y: number }) => [widget.x, widget.y]).slice(0, 4)).toEqual([[0, 0], [12, 0], [0, 6], [12, 6]]);
    const dc = JSON.parse(dataCenterDashboardBody({ region: 'us-east-1', groups: [] }));
    expect(dc.widgets.every((widget: { properties: { region: string } }) => widget.properties.region === 'us-east-1')).toBe(true);
  });

  it('split a widget past the 500 metrics a CloudWatch graph takes, keeping every metric once', () => {
    // 300 media servers x 2 groups: 600 lines in each per-group widget.
    const groups = Array.from({ length: 300 }, (_, server) =>
      ['blue', 'green'].map((groupId) => ({ groupId, mediaServer: `site/ms-${server}`, clusterName: 'c', serviceName: `s-${server}-${groupId}`, targetGroupArnSuffix: `tg-${server}`, loadBalancerArnSuffix: `lb-${server}` })),
    ).flat();
    type Widget = { properties: { title: string; metrics: unknown[][] } };
    const widgets: Widget[] = JSON.parse(dataCenterDashboardBody({ region: 'us-east-1', groups })).widgets;
    expect(widgets.every((widget) => widget.properties.metrics.length <= 500)).toBe(true);
    const drains = widgets.filter((widget) => widget.properties.title.startsWith('Drains: calls left'));
    expect(drains.map((widget) => [widget.properties.title, widget.properties.metrics.length])).toEqual([
      ['Drains: calls left (1 of 2)', 500],
      ['Drains: calls left (2 of 2)', 100],
    ]);
    const labels = drains.flatMap((widget) => widget.properties.metrics.map((line) => JSON.stringify(line[line.length - 1])));
    expect(new Set(labels).size).toBe(600);
    // Three per-group-id widgets of 2 lines stay whole.
    expect(widgets.filter((widget) => !/\(\d of 2\)$/.test(widget.properties.title))).toHaveLength(3);
  });
});

describe('SIP metric filter patterns (CloudWatch all-terms semantics)', () => {
  it('count the 5xx line and the new-call line, each only its own', () => {
    const failure = 'kamailio[812]: NOTICE: <script>: voiceplane-sip-5xx site=west status=503 call_id=abc@host';
    const call = 'kamailio[812]: NOTICE: <script>: voiceplane-sip-new-call site=west call_id=abc@host';
    expect([matchesAllTermsPattern(SIP_SERVER_ERROR_PATTERN, failure), matchesAllTermsPattern(SIP_SERVER_ERROR_PATTERN, call)]).toEqual([true, false]);
    expect([matchesAllTermsPattern(SIP_NEW_CALL_PATTERN, call), matchesAllTermsPattern(SIP_NEW_CALL_PATTERN, failure)]).toEqual([true, false]);
  });
});

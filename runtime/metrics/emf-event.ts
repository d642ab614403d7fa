import type { MetricUnit } from './metric-registry';

export interface EmfEventMetric {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly value: number;
}

/**
 * One CloudWatch embedded-metric-format document for something that happened (a drain count, a phase change):
 * `metrics` under `dimensions`, with `properties` kept in the log line for searching but not as dimensions.
 */
export function emfEvent(
  namespace: string,
  timestampMs: number,
  dimensions: Readonly<Record<string, string>>,
  metrics: readonly EmfEventMetric[],
  properties: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  return {
    _aws: { Timestamp: timestampMs, CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [Object.keys(dimensions)], Metrics: metrics.map(({ name, unit }) => ({ Name: name, Unit: unit })) }] },
    ...properties,
    ...dimensions,
    ...Object.fromEntries(metrics.map(({ name, value }) => [name, value])),
  };
}

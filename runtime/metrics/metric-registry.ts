import { emfEvent, type EmfEventMetric } from './emf-event';

/** The content type of {@link MetricRegistry.prometheus}'s text. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What a metric counts: the CloudWatch unit its values are published in. */
export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds' | 'Bytes' | 'None';

export interface MetricDefinition {
  /** CloudWatch metric name (CamelCase); the Prometheus name is derived from it (`voiceplane_snake_case`). */
  readonly name: string;
  readonly help: string;
  readonly unit: MetricUnit;
}

/** A metric that only goes up; CloudWatch gets what it added since the last publication. */
export interface Counter {
  add(amount?: number): void;
}

interface CounterState {
  readonly definition: MetricDefinition;
  total: number;
  published: number;
}

/** A distribution of observed values (e.g. delays): Prometheus gets a histogram, CloudWatch the interval's maximum. */
export interface Histogram {
  observe(value: number): void;
}

interface HistogramState {
  readonly definition: MetricDefinition;
  /** Upper bounds of the buckets, ascending (`+Inf` is implied). */
  readonly bounds: readonly number[];
  /** Observations at or below each bound (not cumulative). */
  readonly bucketCounts: number[];
  count: number;
  sum: number;
  /** The largest value observed since the last EMF document, if any was. */
  intervalMax?: number;
}

interface GaugeState {
  readonly definition: MetricDefinition;
  readonly read: () => number;
}

/** `CallsStarted` → `voiceplane_calls_started`. */
export function prometheusName(name: string): string {
  return `voiceplane_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()}`;
}

const labelValue = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * A process's metrics, under fixed dimensions (e.g. its call-control group): counters it adds to and gauges read
 * when published. Rendered as Prometheus text for `/metrics` and as CloudWatch embedded metric format (EMF) lines,
 * which CloudWatch Logs turns into metrics without an API call or credentials.
 */
export class MetricRegistry {
  private readonly counters: CounterState[] = [];
  private readonly gauges: GaugeState[] = [];
  private readonly histograms: HistogramState[] = [];

  constructor(
    readonly namespace: string,
    readonly dimensions: Readonly<Record<string, string>>,
  ) {}

  counter(definition: MetricDefinition): Counter {
    const state: CounterState = { definition, total: 0, published: 0 };
    this.counters.push(state);
    return {
      add: (amount = 1) => {
        state.total += amount;
      },
    };
  }

  gauge(definition: MetricDefinition, read: () => number): void {
    this.gauges.push({ definition, read });
  }

  /** `bucketBounds`: the Prometheus buckets' upper bounds, ascending (`+Inf` is added). */
  histogram(definition: MetricDefinition, bucketBounds: readonly number[]): Histogram {
    if (bucketBounds.length === 0 || bucketBounds.some((bound, index) => index > 0 && bound <= bucketBounds[index - 1])) {
      throw new Error(`histogram ${definition.name}: bucket bounds must be ascending and not empty`);
    }
    const state: HistogramState = { definition, bounds: [...bucketBounds], bucketCounts: bucketBounds.map(() => 0), count: 0, sum: 0 };
    this.histograms.push(state);
    return {
      observe: (value) => {
        const bucket = state.bounds.findIndex((bound) => value <= bound);
        if (bucket >= 0) state.bucketCounts[bucket] += 1;
        state.count += 1;
        state.sum += value;
        state.intervalMax = Math.max(state.intervalMax ?? value, value);
      },
    };
  }

  /** The Prometheus text exposition format (version 0.0.4). */
  prometheus(): string {
    const labels = Object.entries(this.dimensions)
      .map(([name, value]) => `${name.toLowerCase()}="${labelValue(value)}"`)
      .join(',');
    const sample = (name: string, value: number) => `${name}${labels ? `{${labels}}` : ''} ${value}`;
    const blocks = [
      ...this.counters.map(({ definition, total }) => {
        const name = `${prometheusName(definition.name)}_total`;
        return [`# HELP ${name} ${definition.help}`, `# TYPE ${name} counter`, sample(name, total)];
      }),
      ...this.gauges.map(({ definition, read }) => {
        const name = prometheusName(definition.name);
        return [`# HELP ${name} ${definition.help}`, `# TYPE ${name} gauge`, sample(name, read())];
      }),
      ...this.histograms.map((state) => {
        const name = prometheusName(state.definition.name);
        const bucket = (bound: string, count: number) => `${name}_bucket{${labels ? `${labels},` : ''}le="${bound}"} ${count}`;
        let cumulative = 0;
        const buckets = state.bounds.map((bound, index) => bucket(String(bound), (cumulative += state.bucketCounts[index])));
        return [
          `# HELP ${name} ${state.definition.help}`,
          `# TYPE ${name} histogram`,
          ...buckets,
          bucket('+Inf', state.count),
          sample(`${name}_sum`, state.sum),
          sample(`${name}_count`, state.count),
        ];
      }),
    ];
    return `${blocks.flat().join('\n')}\n`;
  }

  /**
   * One EMF document: gauges as they are now, counters as what they added since the previous document, histograms
   * as the largest value observed since then (left out when nothing was observed: no data, not a zero delay).
   */
  emf(timestampMs: number): Record<string, unknown> {
    const counters = this.counters.map((state) => {
      const value = state.total - state.published;
      state.published = state.total;
      return { name: state.definition.name, unit: state.definition.unit, value };
    });
    const gauges = this.gauges.map(({ definition, read }) => ({ name: definition.name, unit: definition.unit, value: read() }));
    const maxima = this.histograms.flatMap((state): EmfEventMetric[] => {
      const value = state.intervalMax;
      state.intervalMax = undefined;
      return value === undefined ? [] : [{ name: state.definition.name, unit: state.definition.unit, value }];
    });
    return emfEvent(this.namespace, timestampMs, this.dimensions, [...counters, ...gauges, ...maxima]);
  }
}

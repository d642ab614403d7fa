import { emfEvent } from './emf-event';

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
    ];
    return `${blocks.flat().join('\n')}\n`;
  }

  /** One EMF document: gauges as they are now, counters as what they added since the previous document. */
  emf(timestampMs: number): Record<string, unknown> {
    const counters = this.counters.map((state) => {
      const value = state.total - state.published;
      state.published = state.total;
      return { name: state.definition.name, unit: state.definition.unit, value };
    });
    const gauges = this.gauges.map(({ definition, read }) => ({ name: definition.name, unit: definition.unit, value: read() }));
    return emfEvent(this.namespace, timestampMs, this.dimensions, [...counters, ...gauges]);
  }
}

import { MetricRegistry } from '../../runtime/metrics/metric-registry';

const delay = { name: 'PropagationDelay', help: 'Milliseconds to a peer.', unit: 'Milliseconds' } as const;

describe('a histogram in the metric registry', () => {
  it('renders Prometheus buckets (cumulative, +Inf), sum and count under the registry labels', () => {
    const registry = new MetricRegistry('voiceplane/test', { Site: 'west' });
    const histogram = registry.histogram(delay, [10, 100]);
    [3, 10, 42, 5_000].forEach((value) => histogram.observe(value));

    expect(registry.prometheus()).toBe(
      [
        '# HELP voiceplane_propagation_delay Milliseconds to a peer.',
        '# TYPE voiceplane_propagation_delay histogram',
        'voiceplane_propagation_delay_bucket{site="west",le="10"} 2',
        'voiceplane_propagation_delay_bucket{site="west",le="100"} 3',
        'voiceplane_propagation_delay_bucket{site="west",le="+Inf"} 4',
        'voiceplane_propagation_delay_sum{site="west"} 5055',
        'voiceplane_propagation_delay_count{site="west"} 4',
        '',
      ].join('\n'),
    );
  });

  it("publishes each interval's maximum to EMF, and no value for an interval without observations", () => {
    const registry = new MetricRegistry('voiceplane/test', { Site: 'west' });
    const histogram = registry.histogram(delay, [10]);
    const writes = registry.counter({ name: 'ArchiveWrites', help: 'Records.', unit: 'Count' });
    histogram.observe(7);
    histogram.observe(250);
    histogram.observe(40);
    writes.add();

    expect(registry.emf(1_000)).toEqual({
      _aws: {
        Timestamp: 1_000,
        CloudWatchMetrics: [
          {
            Namespace: 'voiceplane/test',
            Dimensions: [['Site']],
            Metrics: [
              { Name: 'ArchiveWrites', Unit: 'Count' },
              { Name: 'PropagationDelay', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      Site: 'west',
      ArchiveWrites: 1,
      PropagationDelay: 250,
    });
    const quiet = registry.emf(2_000);
    expect(quiet).not.toHaveProperty('PropagationDelay');
    expect(quiet).toMatchObject({ _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'ArchiveWrites', Unit: 'Count' }] }] }, ArchiveWrites: 0 });
    histogram.observe(3);
    expect(registry.emf(3_000)).toMatchObject({ PropagationDelay: 3 });
    expect(registry.prometheus()).toContain('voiceplane_propagation_delay_count{site="west"} 4');
  });

  it('refuses bucket bounds that do not ascend', () => {
    const registry = new MetricRegistry('voiceplane/test', {});
    expect(() => registry.histogram(delay, [100, 10])).toThrow('histogram PropagationDelay: bucket bounds must be ascending and not empty');
    expect(() => registry.histogram(delay, [])).toThrow('histogram PropagationDelay: bucket bounds must be ascending and not empty');
  });
});

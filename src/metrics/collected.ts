import { Counter, Gauge, type Registry } from 'prom-client';

/** One series of a metric read at scrape time: its labels and its value now. */
export interface Sample<L extends string> {
  labels: Record<L, string>;
  value: number;
}

interface CollectedMetric<L extends string> {
  registry: Registry;
  name: string;
  help: string;
  labelNames: readonly L[];
  /** The series as they are now; called on every scrape. A series not returned is gone. */
  read: () => Iterable<Sample<L>>;
}

function optionsOf<L extends string>(metric: CollectedMetric<L>) {
  return {
    name: metric.name,
    help: metric.help,
    labelNames: metric.labelNames,
    registers: [metric.registry],
  };
}

/** A collect() that rebuilds every series from nothing, as read() has them now. */
function rebuildFrom<L extends string, M extends { reset(): void }>(
  read: () => Iterable<Sample<L>>,
  put: (metric: M, sample: Sample<L>) => void,
) {
  return function collect(this: M): void {
    this.reset();
    for (const sample of read()) put(this, sample);
  };
}

/**
 * A gauge whose series are read from the running parts at scrape time instead of being set as
 * things happen: nothing in the pipeline knows about metrics, and a camera removed at run time
 * leaves no stale series behind (every scrape starts from nothing).
 */
export function collectedGauge<L extends string>(metric: CollectedMetric<L>): Gauge<L> {
  return new Gauge<L>({
    ...optionsOf(metric),
    collect: rebuildFrom(metric.read, (gauge: Gauge<L>, sample) => gauge.set(sample.labels, sample.value)),
  });
}

/**
 * A counter read at scrape time from a total that a running part keeps (a supervisor's bytes
 * received). The total restarts from 0 when its camera is changed (a new supervisor): Prometheus
 * treats a counter that went down as a reset, so rate() stays right.
 */
export function collectedCounter<L extends string>(metric: CollectedMetric<L>): Counter<L> {
  return new Counter<L>({
    ...optionsOf(metric),
    collect: rebuildFrom(metric.read, (counter: Counter<L>, sample) =>
      counter.inc(sample.labels, sample.value),
    ),
  });
}

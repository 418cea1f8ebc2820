import type { Metric, Registry } from 'prom-client';

/** A histogram's definition: Prometheus name (`_seconds`, base units), help, label names and bucket bounds. */
export interface FastHistogramSpec {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Upper bounds, ascending; `+Inf` is implied. */
  readonly buckets: readonly number[];
}

/**
 * One label set's counts: per bucket (not cumulative; `+Inf` last), the sum and the count.
 * Invariant: `count` is the sum of `counts`.
 */
export class HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Counts one observation of `value` (a binary search over the bounds). */
  observe(value: number): void {
    const b = this.#bounds;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= (b[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    this.counts[lo] = (this.counts[lo] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/** One sample in prom-client's shape. */
interface Value {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/**
 * A Prometheus histogram for hot paths: the caller keeps the series of each label set it made (in maps
 * of its own, keyed by values it already has) and observes it with a binary search and three additions,
 * where prom-client's `Histogram.observe` validates and hashes the label object on every call (about half
 * of a request's CPU in the overlay benchmark with metrics on). It registers in a prom-client registry
 * and scrapes in the same text format (`_bucket` cumulative with `le`, `_sum`, `_count`).
 *
 * Invariant: `#series` holds every series {@link add} made, until {@link reset}.
 */
export class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #spec: FastHistogramSpec;
  readonly #series: HistogramSeries[] = [];

  constructor(registry: Registry, spec: FastHistogramSpec) {
    this.name = spec.name;
    this.help = spec.help;
    this.#spec = spec;
    registry.registerMetric(this as unknown as Metric);
  }

  /** A new series with label `values` in `labelNames` order; the caller keeps it and asks once per label set. */
  add(values: readonly string[]): HistogramSeries {
    const labels = Object.fromEntries(this.#spec.labelNames.map((n, i) => [n, values[i] ?? '']));
    const s = new HistogramSeries(labels, this.#spec.buckets);
    this.#series.push(s);
    return s;
  }

  /** prom-client's read of the metric at scrape time. */
  get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }> {
    const values: Value[] = [];
    for (const s of this.#series) this.#samples(s, values);
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** Forgets every series (a caller holding one keeps counting into a series no longer scraped). */
  reset(): void {
    this.#series.length = 0;
  }

  #samples(s: HistogramSeries, into: Value[]): void {
    const bounds = this.#spec.buckets;
    let cumulative = 0;
    for (let i = 0; i <= bounds.length; i++) {
      cumulative += s.counts[i] as number;
      const le = i < bounds.length ? (bounds[i] as number) : '+Inf';
      into.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative });
    }
    into.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
    into.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
  }
}

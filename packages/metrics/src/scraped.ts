import { Counter, Gauge, type Registry } from 'prom-client';

/** Label values of one sample, by label name. */
export type Labels = Readonly<Record<string, string>>;

/** One sample read at scrape time: its labels and its value. */
export type Sample = readonly [labels: Labels, value: number];

/** A metric whose samples are read from counters kept elsewhere, when it is scraped. */
export interface ScrapedSpec {
  /** Prometheus name (`layer8_…`, `_total` for a counter, base units). */
  readonly name: string;
  readonly help: string;
  /** Label names every sample carries. Default none. */
  readonly labelNames?: readonly string[];
  /** The samples now; called once per scrape. */
  readonly read: () => Iterable<Sample>;
}

/**
 * A counter registered in `registry` whose values are copied at scrape time from counters the
 * component keeps anyway (`vnet.drops`, `link.stats`…): nothing is done per event on its behalf. The
 * source must only grow (a Prometheus counter), or reset only when the process does.
 */
export function scrapedCounter(registry: Registry, spec: ScrapedSpec): Counter {
  return new Counter({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames ?? [],
    registers: [registry],
    collect(): void {
      this.reset();
      for (const [labels, value] of spec.read()) this.inc(labels, value);
    },
  });
}

/** A gauge registered in `registry` whose values are read at scrape time (see {@link scrapedCounter}). */
export function scrapedGauge(registry: Registry, spec: ScrapedSpec): Gauge {
  return new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames ?? [],
    registers: [registry],
    collect(): void {
      this.reset();
      for (const [labels, value] of spec.read()) this.set(labels, value);
    },
  });
}

/** `noService` → `no_service`: counter field names as Prometheus label values. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** One sample per numeric field of `counters`, labelled `{[label]: snake_case(field)}`. */
export function fieldSamples(label: string, counters: object): Sample[] {
  return Object.entries(counters)
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .map(([field, value]) => [{ [label]: snakeCase(field) }, value]);
}

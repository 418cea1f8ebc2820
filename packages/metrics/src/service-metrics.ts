import type { Registry } from 'prom-client';
import { type Sample, scrapedCounter, scrapedGauge } from './scraped.ts';

/** The live counters of one running service, as `ServiceManager.services()` lists them. */
export interface ServiceCountersView {
  readonly name: string;
  readonly area: number;
  readonly counters: {
    readonly items: number;
    readonly requests: number;
    readonly errors: number;
    readonly replicated: number;
    readonly ignored: number;
    readonly fetched: number;
    readonly unsent: number;
  };
}

/** What runs services: `@layer8/services`' `ServiceManager` is one. */
export interface ServiceSource {
  /** The services running now, with their counters. */
  services(): Iterable<ServiceCountersView>;
}

/** The replication counters, as `what` label values. */
const REPLICATION = ['replicated', 'ignored', 'fetched', 'unsent'] as const;

/** One sample per running service of `field`, labelled `service` and `area`. */
function perService(source: ServiceSource, field: keyof ServiceCountersView['counters']): Sample[] {
  return [...source.services()].map((s) => [{ service: s.name, area: String(s.area) }, s.counters[field]]);
}

/** The replication samples of every running service, labelled `service`, `area` and `what`. */
function replication(source: ServiceSource): Sample[] {
  return [...source.services()].flatMap((s) =>
    REPLICATION.map((what): Sample => [{ service: s.name, area: String(s.area), what }, s.counters[what]]),
  );
}

/**
 * Registers the live counters of the services `source` runs in `registry` (docs/operations.md): items
 * held, requests and errors, and replication, per (service, area), all read at scrape time from the
 * counters the service manager keeps anyway. A service that is deactivated leaves the scrape (and its
 * counters start again from 0 if it comes back, which Prometheus' `rate` reads as a reset).
 *
 * ```ts
 * const services = new ServiceManager(vnic, { registry: types });
 * registerServiceMetrics(registry, services);
 * ```
 */
export function registerServiceMetrics(registry: Registry, source: ServiceSource): void {
  const labelNames = ['service', 'area'];
  scrapedGauge(registry, {
    name: 'layer8_service_items',
    help: 'Entities a stateful service holds in its cache on this node (0 for a stateless one).',
    labelNames,
    read: () => perService(source, 'items'),
  });
  scrapedCounter(registry, {
    name: 'layer8_service_requests_total',
    help: 'Requests the service handled on this node.',
    labelNames,
    read: () => perService(source, 'requests'),
  });
  scrapedCounter(registry, {
    name: 'layer8_service_errors_total',
    help: 'Requests the service handled on this node that failed.',
    labelNames,
    read: () => perService(source, 'errors'),
  });
  scrapedCounter(registry, {
    name: 'layer8_service_replication_total',
    help: 'Replication of a stateful service: change sets applied (replicated), ignored, entities fetched from a peer, notifications never sent (unsent).',
    labelNames: [...labelNames, 'what'],
    read: () => replication(source),
  });
}

import { collectDefaultMetrics, Registry } from 'prom-client';

/** Options of {@link newRegistry}. */
export interface RegistryOptions {
  /**
   * Adds prom-client's process metrics (CPU, memory, heap, event loop lag, GC, handles). They watch the
   * whole process and keep an event-loop monitor for its lifetime: ask for them once per process (the
   * `l8` commands do). Default false.
   */
  readonly process?: boolean;
  /** Prefix of the process metrics' names. Default none (`process_cpu_seconds_total`, `nodejs_…`). */
  readonly prefix?: string;
  /** Labels every sample of the registry carries (`{ instance: 'orders-1' }`). Default none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * prom-client's process gauges whose names end in `_total`, which Prometheus keeps for counters
 * (`promtool check metrics` refuses them). Each has a per-type twin without the suffix
 * (`nodejs_active_handles{type}`) whose sum is the same number, so they are left out.
 */
const MISNAMED_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * A fresh registry for one component: Layer8 never registers into prom-client's global default registry,
 * so two VNets (or a VNet and a gateway) in one process keep their metrics apart.
 */
export function newRegistry(options: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.labels !== undefined) registry.setDefaultLabels({ ...options.labels });
  if (options.process === true) {
    const prefix = options.prefix ?? '';
    collectDefaultMetrics({ register: registry, prefix });
    for (const name of MISNAMED_GAUGES) registry.removeSingleMetric(`${prefix}${name}`);
  }
  return registry;
}

/**
 * @layer8/metrics: Prometheus metrics of Layer8 processes (docs/operations.md): a VNet's, a VNic's and a
 * service manager's counters as prom-client collectors read at scrape time, on a registry per component,
 * and the `/metrics` endpoint.
 */
export type { Registry } from 'prom-client';
export { BreakerMetrics } from './breaker-metrics.ts';
export { newRegistry, type RegistryOptions } from './registry.ts';
export {
  fieldSamples,
  type Labels,
  type Sample,
  type ScrapedSpec,
  scrapedCounter,
  scrapedGauge,
  snakeCase,
} from './scraped.ts';
export {
  DEFAULT_METRICS_PORT,
  METRICS_PATH,
  type MetricsServer,
  parseListenAddress,
  type ServeMetricsOptions,
  serveMetrics,
} from './serve.ts';
export { registerServiceMetrics, type ServiceCountersView, type ServiceSource } from './service-metrics.ts';
export { registerVNetMetrics } from './vnet-metrics.ts';
export { REQUEST_BUCKETS, VNicMetrics, type VNicMetricsOptions } from './vnic-metrics.ts';

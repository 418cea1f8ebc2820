/**
 * @layer8/metrics: Prometheus metrics of Layer8 processes (docs/observability.md): a VNet's and a VNic's
 * counters as prom-client collectors read at scrape time, on a registry per component, and the
 * `/metrics` endpoint.
 */
export type { Registry } from 'prom-client';
export { newRegistry, type RegistryOptions } from './registry.ts';
export { type Labels, type Sample, type ScrapedSpec, scrapedCounter, scrapedGauge } from './scraped.ts';
export {
  DEFAULT_METRICS_PORT,
  METRICS_PATH,
  type MetricsServer,
  parseListenAddress,
  type ServeMetricsOptions,
  serveMetrics,
} from './serve.ts';
export { registerVNetMetrics } from './vnet-metrics.ts';
export { REQUEST_BUCKETS, VNicMetrics, type VNicMetricsOptions } from './vnic-metrics.ts';

/**
 * One service instance of `l8 demo`, run as its own process by the demo:
 * `demo-node <vnet socket> <security dir> <node> <service> <data dir> [seed]`. Joins the VNet with the
 * node's certificate, activates the service (SQLite under the data dir, published by the gateway), with `seed` writes the demo
 * items, prints `serving`, and stops on SIGINT, SIGTERM or when the demo (its IPC parent) goes away.
 * With `L8_DEMO_METRICS=1` it first serves its metrics (the VNic's, its service's, the process's) on
 * 127.0.0.1 at a free port and prints `metrics <url>`.
 */
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import {
  BreakerMetrics,
  type MetricsServer,
  newRegistry,
  registerServiceMetrics,
  serveMetrics,
  VNicMetrics,
} from '@layer8/metrics';
import { TlsProvider } from '@layer8/security';
import { ServiceManager } from '@layer8/services';
import { VNic } from '@layer8/vnic';
import { DEMO_ITEMS } from './demo-data.ts';
import { DEMO_METRICS_ENV } from './demo-observe.ts';
import { processIo } from './io.ts';
import { logLevelOf, processLogger } from './logging.ts';
import { loadRegistry, typeOfService } from './model-types.ts';
import { otlpTracesUrl, startTracing } from './tracing.ts';

const [path, dir, node, service, data, seed] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string?,
];
// JSON logs on stderr at L8_LOG; request spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set
const logger = processLogger(processIo(), logLevelOf(undefined, process.env), { alias: node, service });
const tracing = startTracing(otlpTracesUrl(undefined, process.env), node);
const observed = () => (tracing.tracer === undefined ? { logger } : { logger, tracer: tracing.tracer });
// Prometheus metrics of this process when the demo runs with --metrics
const metricsRegistry = process.env[DEMO_METRICS_ENV] === '1' ? newRegistry({ process: true }) : undefined;
const vnicMetrics = metricsRegistry && new VNicMetrics(metricsRegistry);
const breakers = metricsRegistry && new BreakerMetrics(metricsRegistry);
const measured = () => (vnicMetrics && breakers ? { observer: vnicMetrics, onBreaker: breakers.onChange } : {});
// load figures every second (the default is 10 s) so the dashboard's rates move
const vnic = new VNic({
  provider: new TlsProvider({ dir, node }),
  vnet: { path },
  alias: node,
  statsMs: 1000,
  ...observed(),
  ...measured(),
});
vnicMetrics?.track(vnic);
breakers?.track(vnic);
const registry = await loadRegistry([], process.cwd());
const type = typeOfService(registry, service);
const services = new ServiceManager(vnic, { registry });
if (metricsRegistry) registerServiceMetrics(metricsRegistry, services);
let metricsServer: MetricsServer | undefined;
let stopping: Promise<void> | undefined;
const stop = (): Promise<void> =>
  (stopping ??= (async () => {
    await metricsServer?.close();
    await services.close();
    await vnic.close();
    await tracing.shutdown();
    process.exit(0);
  })());
for (const s of ['SIGINT', 'SIGTERM', 'disconnect'] as const) process.once(s, () => void stop());

await vnic.connect();
const web = { actions: ['post', 'put', 'patch', 'delete', 'get'] as const };
await services.activate({ name: service, type: type.desc, storage: { sqlite: data }, web });
if (seed === 'seed') {
  const client = services.client(service, 0, type.desc);
  for (const item of DEMO_ITEMS[service] ?? []) await client.put(fromJson(type.desc, item as JsonValue));
}
if (metricsRegistry) {
  metricsServer = await serveMetrics(metricsRegistry, { host: '127.0.0.1', port: 0 });
  process.stdout.write(`metrics ${metricsServer.url}\n`);
}
process.stdout.write('serving\n');

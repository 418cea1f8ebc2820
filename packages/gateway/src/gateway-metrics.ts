import { fieldSamples, METRICS_PATH, type Registry, scrapedCounter, scrapedGauge } from '@layer8/metrics';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Histogram } from 'prom-client';
import type { DirectoryCounters } from './directory.ts';
import type { WsCounters } from './ws-protocol.ts';

/** Options of a gateway's metrics (`GatewayOptions.metrics`). */
export interface GatewayMetricsOptions {
  /**
   * The registry the gateway's metrics go to (`newRegistry()` of `@layer8/metrics`); give its VNic a
   * `VNicMetrics` on the same one to have both in one scrape.
   */
  readonly registry: Registry;
  /**
   * Also answers `GET /metrics` on the gateway's own port with the whole registry. That path has no
   * authentication, even with AAA on, and names the overlay's services: leave it off where the gateway
   * faces the internet and serve the registry on a port of its own (`serveMetrics`, what
   * `l8 gateway start --metrics` does). Default false.
   */
  readonly serve?: boolean;
}

/** Buckets of `layer8_gateway_http_request_duration_seconds`: 100 µs to 60 s (the largest deadline). */
export const HTTP_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** The names of the metrics a gateway registers. */
const GATEWAY_METRICS = [
  'layer8_gateway_http_request_duration_seconds',
  'layer8_gateway_ws_connections',
  'layer8_gateway_ws_events_total',
  'layer8_gateway_routes',
  'layer8_gateway_directory_total',
];

/** The `route` label of a request no route matched (a 404, or a method the path does not take). */
export const UNMATCHED_ROUTE = 'unmatched';

/** What the gateway's metrics read at scrape time: the gateway's directory and WebSocket endpoint. */
export interface GatewayFiguresSource {
  readonly directory: { routes(): readonly unknown[]; readonly counters: DirectoryCounters };
  readonly push: { readonly counters: WsCounters };
}

/**
 * The metrics of a gateway (docs/operations.md): one histogram observation per HTTP answer (by method,
 * route pattern and status), and the WebSocket, directory and route figures read at scrape time from
 * the counters the gateway keeps anyway.
 */
export class GatewayMetrics {
  readonly #o: GatewayMetricsOptions;
  readonly #http: Histogram<'method' | 'route' | 'status'>;

  /** @param source read at scrape time only (so a gateway may pass itself while it is being built) */
  constructor(options: GatewayMetricsOptions, source: GatewayFiguresSource) {
    this.#o = options;
    this.#http = new Histogram({
      name: 'layer8_gateway_http_request_duration_seconds',
      help: 'HTTP requests the gateway answered, by method, route pattern and status: duration, and count.',
      labelNames: ['method', 'route', 'status'],
      buckets: [...HTTP_BUCKETS],
      registers: [options.registry],
    });
    registerFigures(options.registry, source);
  }

  /**
   * Adds the timing hook (and `GET /metrics` when `serve`) to `app`, before its routes are declared; when
   * `app` closes, the gateway's metrics leave the registry (another gateway may register them again).
   */
  register(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => this.#observe(req, reply));
    app.addHook('onClose', async () => {
      for (const name of GATEWAY_METRICS) this.#o.registry.removeSingleMetric(name);
    });
    if (this.#o.serve !== true) return;
    const registry = this.#o.registry;
    app.get(METRICS_PATH, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  }

  #observe(req: FastifyRequest, reply: FastifyReply): void {
    const route = req.routeOptions.url ?? UNMATCHED_ROUTE;
    this.#http.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  }
}

/** The WebSocket, directory and route figures, read at scrape time. */
function registerFigures(registry: Registry, source: GatewayFiguresSource): void {
  scrapedGauge(registry, {
    name: 'layer8_gateway_ws_connections',
    help: 'WebSocket connections open now at /ws.',
    read: () => [[{}, source.push.counters.open]],
  });
  scrapedCounter(registry, {
    name: 'layer8_gateway_ws_events_total',
    help: 'WebSocket events at /ws by kind: upgrades accepted (connections), refused, clients cut (slow, dead), messages sent, bad messages, gaps, resyncs, dropped notifications.',
    labelNames: ['event'],
    read: () => fieldSamples('event', { ...source.push.counters, open: undefined }),
  });
  scrapedGauge(registry, {
    name: 'layer8_gateway_routes',
    help: 'Services the gateway publishes now (one per area and service).',
    read: () => [[{}, source.directory.routes().length]],
  });
  scrapedCounter(registry, {
    name: 'layer8_gateway_directory_total',
    help: 'Service descriptor work of the gateway: fetches, fetch failures, descriptors refused, conflicts.',
    labelNames: ['what'],
    read: () => fieldSamples('what', source.directory.counters),
  });
}

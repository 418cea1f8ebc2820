/**
 * What `l8 demo --metrics --otlp URL` adds to the demo: every process of it (the demo's own, with its two
 * VNets and the gateway, and each service process) serves its Prometheus metrics on 127.0.0.1 at a free
 * port, listed in a file-based service discovery file for Prometheus; and the gateway and the service
 * processes send their request spans over OTLP/HTTP.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BreakerMetrics,
  type MetricsServer,
  newRegistry,
  type Registry,
  registerVNetMetrics,
  serveMetrics,
  VNicMetrics,
} from '@layer8/metrics';
import type { VNet } from '@layer8/vnet';
import type { VNic, VNicOptions } from '@layer8/vnic';
import type { CliIo } from './io.ts';
import { otlpTracesUrl, type ProcessTracing, startTracing } from './tracing.ts';

/** The environment variable that tells a demo service process to serve its metrics (`1`). */
export const DEMO_METRICS_ENV = 'L8_DEMO_METRICS';

/** The file (under the demo's data directory) that lists every metrics endpoint for Prometheus. */
export const TARGETS_FILE = 'prometheus-targets.json';

/** The line a service process prints when its metrics are served: `metrics <url>`. */
export const METRICS_LINE = /^metrics (http:\/\/\S+)$/m;

/** The flags of `l8 demo` this file reads. */
export interface DemoObserveFlags {
  readonly metrics?: boolean;
  readonly otlp?: string;
}

/** One metrics endpoint of the demo: the node it watches and its URL. */
interface Target {
  readonly node: string;
  readonly url: string;
}

/** The VNic metrics of a process: a registry and what the VNic feeds it. */
export interface VNicObserved {
  /** The registry to serve; undefined without `--metrics`. */
  readonly registry: Registry | undefined;
  /** The VNic options that feed it (observer, breaker listener), and the tracer when tracing is on. */
  readonly options: Pick<VNicOptions, 'observer' | 'onBreaker' | 'tracer'>;
  /** Tracks the VNic made with {@link options}. */
  track(vnic: VNic): void;
}

/**
 * The metrics and tracing of one demo run.
 *
 * Invariant: `#servers` holds every endpoint this process serves, closed by {@link close}; `#targets`
 * every endpoint of the demo (this process's and its children's), in the order they started.
 */
export class DemoObservability {
  readonly #metrics: boolean;
  readonly #tracesUrl: string | undefined;
  readonly #servers: MetricsServer[] = [];
  readonly #targets: Target[] = [];
  #tracing: ProcessTracing | undefined;
  /** Whether this process's metrics (CPU, memory, event loop) are on one of its registries yet. */
  #processMetrics = false;

  constructor(flags: DemoObserveFlags, env: NodeJS.ProcessEnv) {
    this.#metrics = flags.metrics === true;
    this.#tracesUrl = otlpTracesUrl(flags.otlp, env);
  }

  /** What a service process is told: serve metrics, and where spans go. */
  get childEnv(): Record<string, string> {
    return {
      ...(this.#metrics ? { [DEMO_METRICS_ENV]: '1' } : {}),
      ...(this.#tracesUrl === undefined ? {} : { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: this.#tracesUrl }),
    };
  }

  /** Serves the metrics of `vnet` (with `--metrics`). */
  async vnet(vnet: VNet): Promise<void> {
    if (!this.#metrics) return;
    const registry = this.#registry();
    registerVNetMetrics(registry, vnet);
    await this.#serve(vnet.alias, registry);
  }

  /** The registry and VNic hooks of the demo's gateway: metrics with `--metrics`, spans with `--otlp`. */
  gateway(node: string): VNicObserved {
    const tracer = this.#tracesUrl === undefined ? undefined : this.#startTracing(node).tracer;
    if (!this.#metrics)
      return { registry: undefined, options: tracer === undefined ? {} : { tracer }, track: () => {} };
    const registry = this.#registry();
    const vnicMetrics = new VNicMetrics(registry);
    const breakers = new BreakerMetrics(registry);
    return {
      registry,
      options: { observer: vnicMetrics, onBreaker: breakers.onChange, ...(tracer === undefined ? {} : { tracer }) },
      track: (vnic) => {
        vnicMetrics.track(vnic);
        breakers.track(vnic);
      },
    };
  }

  /** Serves the gateway's registry once the gateway runs. */
  async gatewayStarted(node: string, observed: VNicObserved): Promise<void> {
    if (observed.registry !== undefined) await this.#serve(node, observed.registry);
  }

  /** Notes the metrics endpoint a service process printed in `output`, if it did. */
  fromChild(node: string, output: string): void {
    const url = METRICS_LINE.exec(output)?.[1];
    if (url !== undefined) this.#targets.push({ node, url });
  }

  /** Prints every endpoint and writes them to `data`/{@link TARGETS_FILE} for Prometheus. */
  report(io: CliIo, data: string): void {
    if (this.#tracesUrl !== undefined)
      io.out(`l8 demo: request spans of the gateway and the services go to ${this.#tracesUrl}`);
    if (!this.#metrics) return;
    for (const t of this.#targets) io.out(`l8 demo: metrics of ${t.node} at ${t.url}`);
    const file = join(data, TARGETS_FILE);
    writeFileSync(file, `${JSON.stringify(fileSd(this.#targets), null, 2)}\n`);
    io.out(`l8 demo: every metrics endpoint, for Prometheus' file_sd_configs: ${file}`);
  }

  /** Stops serving and flushes the spans. Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.#servers.splice(0).map((s) => s.close()));
    await this.#tracing?.shutdown();
  }

  #registry(): Registry {
    const registry = newRegistry({ process: !this.#processMetrics });
    this.#processMetrics = true;
    return registry;
  }

  async #serve(node: string, registry: Registry): Promise<void> {
    const server = await serveMetrics(registry, { host: '127.0.0.1', port: 0 });
    this.#servers.push(server);
    this.#targets.push({ node, url: server.url });
  }

  #startTracing(node: string): ProcessTracing {
    this.#tracing ??= startTracing(this.#tracesUrl, node);
    return this.#tracing;
  }
}

/** Prometheus' file-based discovery: one target group per endpoint, its `instance` the node it watches. */
function fileSd(targets: readonly Target[]): { targets: string[]; labels: Record<string, string> }[] {
  return targets.map((t) => ({ targets: [new URL(t.url).host], labels: { instance: t.node } }));
}

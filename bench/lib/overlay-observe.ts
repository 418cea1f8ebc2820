/**
 * Observability for the overlay benchmark's Layer8 workers, as a user would turn it on: `metrics` is
 * prom-client metrics on every VNet and VNic (scraped once a second, as a busy Prometheus would) and the
 * VNics' default tracing (the OpenTelemetry API's global provider, with no SDK registered); `traced`
 * gives the VNics a tracer of the SDK, sampling 1 % of the traces (parent-based) into a batch processor
 * whose exporter only counts the spans.
 */
import { newRegistry, type Registry, registerVNetMetrics, VNicMetrics } from '@layer8/metrics';
import type { VNet } from '@layer8/vnet';
import type { VNic, VNicOptions } from '@layer8/vnic';
import type { Tracer } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';

/** What a worker turns on: nothing (undefined), metrics with the tracing API, or that and a sampling SDK. */
export type Observe = 'metrics' | 'traced';

/** The ratio of traces the `traced` mode samples. */
export const TRACE_SAMPLING = 0.01;
const SCRAPE_MS = 1000;

/**
 * The observability of one worker process: a registry per component, all scraped every second, and per
 * mode a tracer. Invariants: `#registries` holds one registry per VNet or VNic made observable;
 * `#scraper` runs until {@link close}.
 */
export class WorkerObservability {
  readonly #registries: Registry[] = [];
  /** The SDK's tracer (traced mode), else undefined: the VNics' default. */
  readonly #tracer: Tracer | undefined;
  readonly #provider: BasicTracerProvider | undefined;
  readonly #scraper: NodeJS.Timeout;
  /** Spans the SDK exported (traced mode). */
  spans = 0;

  constructor(mode: Observe) {
    this.#provider = mode === 'traced' ? this.#sdk() : undefined;
    this.#tracer = this.#provider?.getTracer('layer8');
    this.#scraper = setInterval(() => this.#scrape(), SCRAPE_MS);
    this.#scraper.unref();
  }

  /** Registers `vnet`'s metrics. */
  vnet(vnet: VNet): void {
    registerVNetMetrics(this.#registry(), vnet);
  }

  /** The VNic options that turn observability on, and a hook to call once the VNic exists. */
  vnic(): { options: Pick<VNicOptions, 'observer' | 'tracer'>; track(n: VNic): void } {
    const metrics = new VNicMetrics(this.#registry());
    const tracer = this.#tracer === undefined ? {} : { tracer: this.#tracer };
    return { options: { observer: metrics, ...tracer }, track: (n) => void metrics.track(n) };
  }

  /** Stops the scraper and flushes the SDK. */
  async close(): Promise<void> {
    clearInterval(this.#scraper);
    await this.#provider?.shutdown();
  }

  #registry(): Registry {
    const r = newRegistry();
    this.#registries.push(r);
    return r;
  }

  #scrape(): void {
    for (const r of this.#registries) void r.metrics();
  }

  #sdk(): BasicTracerProvider {
    const exporter: SpanExporter = {
      export: (spans: ReadableSpan[], done) => {
        this.spans += spans.length;
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: () => Promise.resolve(),
    };
    return new BasicTracerProvider({
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(TRACE_SAMPLING) }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
    });
  }
}

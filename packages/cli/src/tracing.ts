import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** The tracer name the processes of the CLI trace requests under. */
const TRACER = 'layer8';

/** The tracing of one process: the tracer its VNics use (none when off) and the flush at its end. */
export interface ProcessTracing {
  /** Undefined when tracing is off: the VNics then run untraced, at no cost. */
  readonly tracer: Tracer | undefined;
  /** The OTLP/HTTP URL spans go to; undefined when off. */
  readonly url: string | undefined;
  /** Sends the spans still buffered and stops (idempotent; never rejects). */
  shutdown(): Promise<void>;
}

/**
 * Where spans go: `--otlp URL`, else `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is), else
 * `OTEL_EXPORTER_OTLP_ENDPOINT`; a base URL (`http://localhost:4318`) gets the traces path `/v1/traces`
 * as the OTLP specification says. Undefined: tracing is off.
 */
export function otlpTracesUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const signal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (flag === undefined && signal !== undefined && signal !== '') return signal;
  const base = flag ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (base === undefined || base === '') return undefined;
  return /\/v1\/traces\/?$/.test(base) ? base : `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * The OTel SDK of this process when `url` is given: a tracer provider of its own (not registered
 * globally, so that processes and tests in one runtime stay apart) whose spans go in batches to `url`
 * over OTLP/HTTP (JSON), under `service.name` = `service`. Off (no SDK at all) without `url`.
 */
export function startTracing(
  url: string | undefined,
  service: string,
  attributes: Record<string, string> = {},
): ProcessTracing {
  if (url === undefined) return { tracer: undefined, url: undefined, shutdown: () => Promise.resolve() };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, ...attributes }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 1000 })],
  });
  let stopped: Promise<void> | undefined;
  return {
    tracer: provider.getTracer(TRACER),
    url,
    shutdown: () => {
      stopped ??= provider.shutdown().catch(() => undefined);
      return stopped;
    },
  };
}

import { ProxyTracerProvider, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';

/** Name of the tracer a VNic asks the global OpenTelemetry provider for. */
export const TRACER_NAME = 'layer8';

/** The tracer a request or handler run goes to now; undefined: run it untraced. */
export type TracerLookup = () => Tracer | undefined;

/**
 * Where a VNic's spans go (`VNicOptions.tracer`): nowhere for `false`; a given tracer always; by default
 * the OpenTelemetry API's global provider, but only while an SDK is registered behind it. A process
 * without an SDK then pays a lookup per request instead of no-op spans and contexts, and a process that
 * registers one later (or `trace.disable()`s it) is traced from then on (or no longer).
 */
export function tracerLookup(option: Tracer | false | undefined): TracerLookup | undefined {
  if (option === false) return undefined;
  if (option !== undefined) return () => option;
  let delegate: TracerProvider | undefined;
  let tracer: Tracer | undefined;
  return () => {
    const global = trace.getTracerProvider();
    if (!(global instanceof ProxyTracerProvider)) return global.getTracer(TRACER_NAME);
    const d = global.getDelegate();
    if (d !== delegate) {
      delegate = d;
      tracer = global.getDelegateTracer(TRACER_NAME);
    }
    return tracer;
  };
}

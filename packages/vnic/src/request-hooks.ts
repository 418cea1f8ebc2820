import { type Action, type L8Error, toL8Error } from '@layer8/protocol';
import type { Tracer } from '@opentelemetry/api';
import type { HandlerContext } from './context.ts';
import type { Handler } from './dispatch.ts';
import type { VNicLogger } from './lifecycle.ts';
import type { Incoming, Payload } from './payload.ts';
import { observedHandler, type RequestObserver } from './request-observer.ts';
import type { RequestOptions, Target } from './target.ts';
import { tracerLookup } from './tracer-lookup.ts';
import { traceCall, tracedHandler, traceIdOf } from './tracing.ts';

/**
 * What may watch a VNic's requests: an observer and a debug logger, opt-in; a tracer, by default the
 * global OpenTelemetry SDK's when one is registered (tracer-lookup.ts). A VNic with none (`tracer: false`)
 * runs its requests unwrapped.
 */
export interface HookOptions {
  readonly observer?: RequestObserver;
  readonly tracer?: Tracer | false;
  readonly logger?: VNicLogger;
}

/** Runs a request with the options the hooks hand it (a traceparent of the caller span added). */
export type HookedCall = (
  target: Target,
  options: RequestOptions,
  call: (options: RequestOptions) => Promise<Incoming>,
) => Promise<Incoming>;

/** The logger, when it logs at `debug` (per-request lines cost nothing otherwise). */
function debugLogger(logger: VNicLogger | undefined): VNicLogger | undefined {
  return logger?.isLevelEnabled?.('debug') === true ? logger : undefined;
}

/** One debug line for a request that failed, with the trace id as correlation id. */
function logFailure(
  log: VNicLogger,
  msg: string,
  f: Record<string, unknown>,
  traceparent: string | undefined,
  err: unknown,
): void {
  const e = toL8Error(err);
  log.debug({ ...f, code: e.code, traceId: traceIdOf(traceparent) }, `${msg}: ${e.message}`);
}

/**
 * The request wrapper of a VNic with these hooks, outermost first: the span (so the debug log sees its
 * traceparent), then the debug log of failures. Undefined when neither is on: the hot path then reads one
 * field and calls nothing. The observer is not a wrapper: the resilience layer reports to it from the
 * request's own settlement (resilience.ts), which costs no promise of its own.
 */
export function requestHooks(o: HookOptions, node: Record<string, unknown>): HookedCall | undefined {
  const tracer = tracerLookup(o.tracer);
  const log = debugLogger(o.logger);
  if (tracer === undefined && log === undefined) return undefined;
  const logged: HookedCall =
    log === undefined
      ? (_target, options, call) => call(options)
      : (target, options, call) =>
          call(options).catch((err: unknown) => {
            const f = { ...node, service: target?.service, area: target?.area ?? 0, action: options.action };
            logFailure(log, 'request failed', f, options.traceparent, err);
            throw err;
          });
  if (tracer === undefined) return logged;
  return (target, options, call) => {
    const t = tracer();
    return t === undefined
      ? logged(target, options, call)
      : traceCall(t, target, options, (x) => logged(target, x, call));
  };
}

/** `handler` wrapped in the same hooks as {@link requestHooks}; `handler` itself when none is on. */
export function hookedHandler(
  o: HookOptions,
  node: Record<string, unknown>,
  service: string,
  handler: Handler,
): Handler {
  let h = o.observer === undefined ? handler : observedHandler(o.observer, service, handler);
  const log = debugLogger(o.logger);
  if (log !== undefined) h = loggedHandler(log, node, h);
  const tracer = tracerLookup(o.tracer);
  return tracer === undefined ? h : tracedHandler(tracer, h);
}

/** `handler`, with a debug line for every request it fails (one-way failures go to `onHandlerError`). */
function loggedHandler(log: VNicLogger, node: Record<string, unknown>, handler: Handler): Handler {
  return (message: Incoming, ctx: HandlerContext): Payload | Promise<Payload> => {
    if (ctx.kind !== 'request') return handler(message, ctx);
    const fail = (err: unknown): never => {
      const f = { ...node, service: ctx.service, area: ctx.area, action: ctx.action as Action, peer: ctx.source };
      logFailure(log, 'handler failed', f, ctx.traceparent, err);
      throw err;
    };
    let result: Payload | Promise<Payload>;
    try {
      result = handler(message, ctx);
    } catch (err) {
      return fail(err);
    }
    return result instanceof Promise ? result.catch(fail) : result;
  };
}

/**
 * The default report of a one-way handler that failed: a warning on the VNic's logger (nowhere without
 * one: a library never prints by itself; `drops.oneWayFailures` counts it either way).
 */
export function oneWayWarning(
  logger: VNicLogger | undefined,
  node: Record<string, unknown>,
): (e: L8Error, service: string, area: number) => void {
  return (e, service, area) =>
    logger?.warn(
      { ...node, service, area, code: e.code },
      `one-way handler of ${service}/${area} failed: ${e.message}`,
    );
}

import { Action, formatTraceparent, parseTraceparent, toL8Error } from '@layer8/protocol';
import {
  type Attributes,
  INVALID_SPANID,
  INVALID_TRACEID,
  type Context as OtelContext,
  context as otelContext,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { HandlerContext } from './context.ts';
import type { Handler } from './dispatch.ts';
import type { Incoming, Payload } from './payload.ts';
import type { RequestOptions, SendOptions, Target } from './target.ts';
import type { TracerLookup } from './tracer-lookup.ts';

/** Name of the span of a request at the caller (kind CLIENT). */
export const REQUEST_SPAN = 'layer8.request';
/** Name of the span of a request at its handler (kind SERVER). */
export const HANDLE_SPAN = 'layer8.handle';

/** Action numbers → names (`8` → `HANDLE`), for the `layer8.action` attribute. */
const ACTION_NAMES = new Map<number, string>(Object.entries(Action).map(([name, n]) => [n, name]));

/** The trace id (32 hex digits) of a W3C traceparent; undefined for none or a malformed one. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}

/** The span context a traceparent names (remote), or undefined when it is none. */
function spanContextOf(traceparent: string | undefined): SpanContext | undefined {
  const p = parseTraceparent(traceparent);
  return p === undefined ? undefined : { traceId: p.traceId, spanId: p.spanId, traceFlags: p.flags, isRemote: true };
}

/**
 * Whether the caller decided not to sample this trace (W3C `sampled` flag off): no span is made for it
 * here either, as a parent-based sampler would decide, without paying for a non-recording span; the
 * caller's traceparent travels on unchanged, so the trace id still correlates the logs.
 */
function unsampled(parent: SpanContext | undefined): boolean {
  return parent !== undefined && (parent.traceFlags & 1) === 0;
}

/**
 * The traceparent of `span`, or undefined when the span has no context of its own (a no-op tracer's
 * span carries its parent's context, or the invalid one). An SDK's ids are valid by construction.
 */
function traceparentOf(span: Span, parent: SpanContext | undefined): string | undefined {
  const sc = span.spanContext();
  if (sc.traceId === INVALID_TRACEID || sc.spanId === INVALID_SPANID || sc.spanId === parent?.spanId) return undefined;
  return formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags);
}

/** The OTel context a span starts in: the traceparent's span as its remote parent, else the active one. */
function parentContext(parent: SpanContext | undefined): OtelContext {
  const active = otelContext.active();
  return parent === undefined ? active : trace.setSpanContext(active, parent);
}

function attributes(service: string, action: number, area: number, node: string | undefined): Attributes {
  const a: Attributes = { 'layer8.service': service, 'layer8.action': ACTION_NAMES.get(action) ?? String(action) };
  a['layer8.area'] = area;
  if (node !== undefined) a['layer8.node'] = node;
  return a;
}

/** Ends `span` as failed with the error's `L8_ERR_*` code. */
function failed(span: Span, err: unknown): void {
  const e = toL8Error(err);
  span.setAttribute('layer8.code', e.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
  span.end();
}

/**
 * `call`, inside a `layer8.request` span (kind CLIENT): its parent is `options.traceparent` when given (a
 * handler's context passes its own span there), else the active OTel span; the traceparent sent is the
 * span's own, so the handler's span is its child. Ends with the reply, or as failed with the error's code.
 */
export function traceCall(
  tracer: Tracer,
  target: Target,
  options: RequestOptions,
  call: (options: RequestOptions) => Promise<Incoming>,
): Promise<Incoming> {
  const parent = spanContextOf(options.traceparent);
  if (unsampled(parent)) return call(options);
  const service = typeof target?.service === 'string' ? target.service : '';
  const attrs = attributes(service, options.action ?? Action.HANDLE, target?.area ?? 0, target?.node);
  const span = tracer.startSpan(REQUEST_SPAN, { kind: SpanKind.CLIENT, attributes: attrs }, parentContext(parent));
  const traceparent = traceparentOf(span, parent);
  const reply = call(traceparent === undefined ? options : { ...options, traceparent });
  return reply.then(
    (answer) => {
      span.setAttribute('layer8.node', answer.source);
      span.end();
      return answer;
    },
    (err: unknown) => {
      failed(span, err);
      throw err;
    },
  );
}

/**
 * `handler`, with every request it runs inside a `layer8.handle` span (kind SERVER), a child of the
 * sender's traceparent and the active span while the handler runs; requests the handler makes through
 * `ctx` are children of it. One-way messages run untraced. A handler that answers at once still does.
 */
export function tracedHandler(lookup: TracerLookup, handler: Handler): Handler {
  return (message: Incoming, ctx: HandlerContext): Payload | Promise<Payload> => {
    const tracer = ctx.kind === 'request' ? lookup() : undefined;
    if (tracer === undefined) return handler(message, ctx);
    const parent = spanContextOf(ctx.traceparent);
    if (unsampled(parent)) return handler(message, ctx);
    const attrs = attributes(ctx.service, ctx.action, ctx.area, ctx.source);
    const outer = parentContext(parent);
    const span = tracer.startSpan(HANDLE_SPAN, { kind: SpanKind.SERVER, attributes: attrs }, outer);
    const own = traceparentOf(span, parent);
    const inner = own === undefined ? ctx : new TracedContext(ctx, own);
    let result: Payload | Promise<Payload>;
    try {
      result = otelContext.with(trace.setSpan(outer, span), handler, undefined, message, inner);
    } catch (err) {
      failed(span, err);
      throw err;
    }
    if (!(result instanceof Promise)) {
      span.end();
      return result;
    }
    return result.then(
      (r) => {
        span.end();
        return r;
      },
      (err: unknown) => {
        failed(span, err);
        throw err;
      },
    );
  };
}

/**
 * A handler context whose calls carry the traceparent of the handler's span (instead of a fresh child of
 * the sender's), so that the caller spans they make are children of it; everything else is `ctx`'s.
 */
class TracedContext implements HandlerContext {
  readonly #ctx: HandlerContext;
  readonly #traceparent: string;

  constructor(ctx: HandlerContext, traceparent: string) {
    this.#ctx = ctx;
    this.#traceparent = traceparent;
  }

  get kind(): HandlerContext['kind'] {
    return this.#ctx.kind;
  }
  get action(): HandlerContext['action'] {
    return this.#ctx.action;
  }
  get service(): string {
    return this.#ctx.service;
  }
  get area(): number {
    return this.#ctx.area;
  }
  get source(): HandlerContext['source'] {
    return this.#ctx.source;
  }
  get identity(): string {
    return this.#ctx.identity;
  }
  get traceparent(): string | undefined {
    return this.#ctx.traceparent;
  }
  get signal(): AbortSignal {
    return this.#ctx.signal;
  }

  remainingMs(): number {
    return this.#ctx.remainingMs();
  }

  progress(payload: Payload): void {
    this.#ctx.progress(payload);
  }

  request(target: Target, payload?: Payload, options: RequestOptions = {}): Promise<Incoming> {
    return this.#ctx.request(target, payload, this.#carried(options));
  }

  send(target: Target, payload?: Payload, options: SendOptions = {}): void {
    this.#ctx.send(target, payload, this.#carried(options));
  }

  multicast(target: Target, payload?: Payload, options: SendOptions = {}): void {
    this.#ctx.multicast(target, payload, this.#carried(options));
  }

  #carried<O extends SendOptions>(options: O): O {
    return options.traceparent !== undefined ? options : { ...options, traceparent: this.#traceparent };
  }
}

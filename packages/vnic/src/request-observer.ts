import { type Action, toL8Error } from '@layer8/protocol';
import type { HandlerContext } from './context.ts';
import type { Handler } from './dispatch.ts';
import type { Incoming, Payload } from './payload.ts';

/** The code a request that succeeded is observed with. */
export const OK_CODE = 'OK';

/**
 * Told about every request a VNic makes and every request its handlers answer, with the outcome and the
 * time it took (`VNicOptions.observer`; `@layer8/metrics` turns these into Prometheus histograms). Called
 * synchronously when the request settles; a fault of the observer is ignored.
 */
export interface RequestObserver {
  /**
   * A request this VNic made settled. `code` is {@link OK_CODE} or the `L8_ERR_*` code it failed with;
   * `seconds` run from the `request()` call to the settlement (network, queues and the handler).
   */
  called(service: string, action: Action, code: string, seconds: number): void;
  /**
   * A handler of this VNic finished a request (also one of a `local`-mode call). `code` is {@link OK_CODE}
   * or the `L8_ERR_*` code of what it threw; `seconds` the handler's run, its promise included.
   */
  served(service: string, action: Action, code: string, seconds: number): void;
}

/**
 * Tells `observer` that a request this VNic made to `service` settled with `code`, `startedAt` being its
 * `performance.now()` at the `request()` call; an observer's fault never reaches the request.
 */
export function reportCall(
  observer: RequestObserver,
  service: string,
  action: Action,
  startedAt: number,
  code: string,
): void {
  try {
    observer.called(service, action, code, (performance.now() - startedAt) / 1000);
  } catch {
    // metrics are a side show: a broken observer must not fail the request it watches
  }
}

/** `reply`, reported to `observer.called` when it settles (the caller side; one promise, no other object). */
export function observeCall(
  observer: RequestObserver,
  service: string,
  action: Action,
  startedAt: number,
  reply: Promise<Incoming>,
): Promise<Incoming> {
  return reply.then(
    (answer) => {
      reportCall(observer, service, action, startedAt, OK_CODE);
      return answer;
    },
    (err: unknown) => {
      reportCall(observer, service, action, startedAt, toL8Error(err).code);
      throw err;
    },
  );
}

/** Tells `observer.served` how a handler's request ended; an observer's fault never reaches the handler. */
function reportServed(observer: RequestObserver, service: string, action: Action, startedAt: number, code: string) {
  try {
    observer.served(service, action, code, (performance.now() - startedAt) / 1000);
  } catch {
    // as in reportCall
  }
}

/**
 * `handler`, with every request it runs reported to `observer.served` (the responder side). One-way
 * messages run it unobserved. A handler that answers at once still answers at once.
 */
export function observedHandler(observer: RequestObserver, service: string, handler: Handler): Handler {
  return (message: Incoming, ctx: HandlerContext): Payload | Promise<Payload> => {
    if (ctx.kind !== 'request') return handler(message, ctx);
    const { action } = ctx;
    const startedAt = performance.now();
    let result: Payload | Promise<Payload>;
    try {
      result = handler(message, ctx);
    } catch (err) {
      reportServed(observer, service, action, startedAt, toL8Error(err).code);
      throw err;
    }
    if (!(result instanceof Promise)) {
      reportServed(observer, service, action, startedAt, OK_CODE);
      return result;
    }
    return result.then(
      (r) => {
        reportServed(observer, service, action, startedAt, OK_CODE);
        return r;
      },
      (err: unknown) => {
        reportServed(observer, service, action, startedAt, toL8Error(err).code);
        throw err;
      },
    );
  };
}

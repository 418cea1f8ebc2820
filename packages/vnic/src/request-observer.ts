import { Action, toL8Error } from '@layer8/protocol';
import type { HandlerContext } from './context.ts';
import type { Handler } from './dispatch.ts';
import type { Incoming, Payload } from './payload.ts';
import type { RequestOptions, Target } from './target.ts';

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

/** One request to report: which side, what, how it ended, and its `performance.now()` start. */
interface Report {
  readonly side: 'called' | 'served';
  readonly service: string;
  readonly action: Action;
  readonly startedAt: number;
}

/** Tells `observer` how request `r` ended; an observer's fault never reaches the request. */
function report(observer: RequestObserver, r: Report, code: string): void {
  try {
    observer[r.side](r.service, r.action, code, (performance.now() - r.startedAt) / 1000);
  } catch {
    // metrics are a side show: a broken observer must not fail the request it watches
  }
}

/** `reply`, reported to `observer.called` when it settles (the caller side). */
export function observeCall(
  observer: RequestObserver,
  target: Target,
  options: RequestOptions,
  reply: () => Promise<Incoming>,
): Promise<Incoming> {
  const r: Report = {
    side: 'called',
    service: typeof target?.service === 'string' ? target.service : '',
    action: options.action ?? Action.HANDLE,
    startedAt: performance.now(),
  };
  return reply().then(
    (answer) => {
      report(observer, r, OK_CODE);
      return answer;
    },
    (err: unknown) => {
      report(observer, r, toL8Error(err).code);
      throw err;
    },
  );
}

/**
 * `handler`, with every request it runs reported to `observer.served` (the responder side). One-way
 * messages run it unobserved. A handler that answers at once still answers at once.
 */
export function observedHandler(observer: RequestObserver, service: string, handler: Handler): Handler {
  return (message: Incoming, ctx: HandlerContext): Payload | Promise<Payload> => {
    if (ctx.kind !== 'request') return handler(message, ctx);
    const r: Report = { side: 'served', service, action: ctx.action, startedAt: performance.now() };
    const done = (code: string): void => report(observer, r, code);
    let result: Payload | Promise<Payload>;
    try {
      result = handler(message, ctx);
    } catch (err) {
      done(toL8Error(err).code);
      throw err;
    }
    if (!(result instanceof Promise)) {
      done(OK_CODE);
      return result;
    }
    return result.then(
      (r) => {
        done(OK_CODE);
        return r;
      },
      (err: unknown) => {
        done(toL8Error(err).code);
        throw err;
      },
    );
  };
}

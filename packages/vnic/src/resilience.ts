import { Action, l8error, type NodeId, toL8Error } from '@layer8/protocol';
import { BreakerBoard, type BreakerListener, type BreakerOptions } from './breaker.ts';
import { type Bulkhead, bulkheadOf, type CallerBulkhead, CallerBulkheads, type FullBulkhead } from './bulkhead.ts';
import { type HedgePolicy, hedgeDelayMs, hedged, LatencyWindow } from './hedge.ts';
import type { Incoming } from './payload.ts';
import { OK_CODE, observeCall, type RequestObserver, reportCall } from './request-observer.ts';
import {
  backoffMs,
  type FullRetryPolicy,
  isIdempotent,
  mayRetry,
  RetryBudget,
  type RetryBudgetOptions,
  type RetryPolicy,
  retryPolicyOf,
} from './retry.ts';
import type { RequestOptions } from './target.ts';

/** The resilience options of a VNic (the `VNicOptions` of the same names). */
export interface ResilienceOptions {
  readonly breaker?: BreakerOptions | false;
  readonly retry?: RetryPolicy | false;
  readonly retryBudget?: RetryBudgetOptions;
  /** Told about every breaker state change. */
  readonly onBreaker?: BreakerListener;
  /** Caller bulkheads by service name. */
  readonly bulkheads?: Readonly<Record<string, Bulkhead>>;
  /** Hedge policies of GETs by service name. */
  readonly hedges?: Readonly<Record<string, HedgePolicy>>;
  /** Told how every request ended (`VNicOptions.observer`). */
  readonly observer?: RequestObserver;
}

/** One request to make: where, with what options, and how to pick and send to a node. */
export interface CallPlan {
  readonly service: string;
  readonly area: number;
  readonly options: RequestOptions;
  /** The request's whole deadline, ms: retries share it. */
  readonly timeoutMs: number;
  /** `performance.now()` at the `request()` call (read only with an observer). */
  readonly startedAt: number;
  /** The node to send to (an instance mode picks one, respecting the breakers). @throws L8Error */
  pick(): NodeId;
  /** Sends to `node` with `options` (a retry's carry the time left). */
  send(node: NodeId, options: RequestOptions): Promise<Incoming>;
}

/** Services whose retry budget (or latency window) is kept, at most (then they start over). */
const MAX_BUDGETS = 4096;

/**
 * The caller-side resilience of a VNic: a request of a service with a bulkhead waits for (or is refused)
 * a slot first (bulkhead.ts); every request's outcome goes to its node's circuit breaker (breaker.ts; the
 * instance picker skips open ones); a request whose policy allows retries is tried again after a
 * full-jitter back-off, within its deadline and its service's retry budget (retry.ts); a GET with a hedge
 * policy sends a second copy to another instance when the first is slow (hedge.ts), within that budget too.
 *
 * Invariant: `#budgets` and `#latencies` hold at most {@link MAX_BUDGETS} services each.
 */
export class Resilience {
  /** The breakers, undefined when `breaker: false`. */
  readonly breakers: BreakerBoard | undefined;
  /** The caller bulkheads in use (one per service that has a bound). */
  readonly bulkheads = new CallerBulkheads();
  readonly #retry: RetryPolicy | false | undefined;
  readonly #budgetOptions: RetryBudgetOptions;
  readonly #budgets = new Map<string, RetryBudget>();
  /** Bulkheads and hedge policies by service (a Map: a service name is never read as an inherited key). */
  readonly #bounds: ReadonlyMap<string, FullBulkhead> | undefined;
  readonly #hedges: ReadonlyMap<string, HedgePolicy> | undefined;
  readonly #latencies = new Map<string, LatencyWindow>();
  /** Told how every request ended, undefined for none. */
  readonly observer: RequestObserver | undefined;

  /** @throws L8_ERR_INVALID_ARGUMENT for a bad bulkhead */
  constructor(o: ResilienceOptions) {
    this.breakers = o.breaker === false ? undefined : new BreakerBoard(o.breaker ?? {}, o.onBreaker);
    this.#retry = o.retry;
    this.#budgetOptions = o.retryBudget ?? {};
    this.#bounds = o.bulkheads && new Map(Object.entries(o.bulkheads).map(([k, b]) => [k, bulkheadOf(b)]));
    this.#hedges = o.hedges === undefined ? undefined : new Map(Object.entries(o.hedges));
    this.observer = o.observer;
  }

  /**
   * Makes the request of `plan`, within its service's bulkhead when it has one, and reports its outcome
   * to the observer (a single attempt from its own settlement, with its breaker's record).
   */
  call(plan: CallPlan): Promise<Incoming> {
    const own = plan.options.bulkhead;
    const bound = own === undefined ? this.#bounds?.get(plan.service) : own === false ? undefined : bulkheadOf(own);
    if (bound === undefined) return this.#unbounded(plan, true);
    return this.#watched(plan, this.#bulkheaded(plan, bound));
  }

  /** `reply`, reported to the observer when it settles; `reply` itself without one. */
  watch(service: string, options: RequestOptions, startedAt: number, reply: Promise<Incoming>): Promise<Incoming> {
    const o = this.observer;
    return o === undefined ? reply : observeCall(o, service, options.action ?? Action.HANDLE, startedAt, reply);
  }

  /** Reports a request refused before it was sent (no reply to wait for). */
  refused(service: string, options: RequestOptions, startedAt: number, code: string): void {
    const o = this.observer;
    if (o !== undefined) reportCall(o, service, options.action ?? Action.HANDLE, startedAt, code);
  }

  /** Stops the breakers' timers. */
  dispose(): void {
    this.breakers?.dispose();
  }

  #watched(plan: CallPlan, reply: Promise<Incoming>): Promise<Incoming> {
    return this.watch(plan.service, plan.options, plan.startedAt, reply);
  }

  /** One attempt, hedged or not, or several when its retry policy allows; `whole`: the call, to observe. */
  #unbounded(plan: CallPlan, whole: boolean): Promise<Incoming> {
    const policy = retryPolicyOf(plan.options.retry, this.#retry);
    const hedge = this.#hedgeOf(plan);
    let reply: Promise<Incoming>;
    if (policy !== undefined && policy.attempts > 1) reply = this.#withRetries(plan, policy, hedge);
    else if (hedge === undefined) return this.#attempt(plan, plan.options, plan.pick(), whole);
    else {
      this.#budgetOf(plan.service, plan.area).request();
      reply = this.#try(plan, plan.options, hedge);
    }
    return whole ? this.#watched(plan, reply) : reply;
  }

  /** Waits for (or is refused) a slot of the service's bulkhead, then makes the request with the time left. */
  #bulkheaded(plan: CallPlan, bound: FullBulkhead): Promise<Incoming> {
    const gate = this.bulkheads.of(plan.service, plan.area);
    const queued = gate.enter(bound, plan.service, plan.timeoutMs, plan.options.signal);
    if (queued === undefined) return this.#inside(gate, plan);
    const startedAt = performance.now();
    return queued.then(() => {
      const left = Math.max(1, Math.floor(plan.timeoutMs - (performance.now() - startedAt)));
      return this.#inside(gate, { ...plan, timeoutMs: left, options: { ...plan.options, timeoutMs: left } });
    });
  }

  /** The request of `plan` inside a slot of `gate`, which it leaves when it settles. */
  #inside(gate: CallerBulkhead, plan: CallPlan): Promise<Incoming> {
    let reply: Promise<Incoming>;
    try {
      reply = this.#unbounded(plan, false);
    } catch (err) {
      gate.leave();
      throw err;
    }
    return reply.then(
      (r) => {
        gate.leave();
        return r;
      },
      (e: unknown) => {
        gate.leave();
        throw e;
      },
    );
  }

  /** The hedge policy of a GET (only reads are hedged), undefined for none. */
  #hedgeOf(plan: CallPlan): HedgePolicy | undefined {
    if (plan.options.action !== Action.GET) return undefined;
    const h = plan.options.hedge ?? this.#hedges?.get(plan.service);
    return h === false ? undefined : h;
  }

  /** One attempt, hedged when `hedge` is given. */
  #try(plan: CallPlan, options: RequestOptions, hedge: HedgePolicy | undefined): Promise<Incoming> {
    if (hedge === undefined) return this.#attempt(plan, options, plan.pick());
    const latencies = this.#latencyOf(plan.service, plan.area);
    const budget = this.#budgetOf(plan.service, plan.area);
    return hedged({
      options,
      timeoutMs: options.timeoutMs ?? plan.timeoutMs,
      delayMs: hedgeDelayMs(hedge, latencies),
      pick: plan.pick,
      attempt: (node, o) => this.#attempt(plan, o, node),
      mayHedge: () => budget.tryRetry(),
      record: (ms) => latencies.record(ms),
    });
  }

  /**
   * One attempt to `node`; its outcome goes to the node's breaker and, when the attempt is the `whole`
   * call, to the observer: one reaction for both.
   */
  #attempt(plan: CallPlan, options: RequestOptions, node: NodeId, whole = false): Promise<Incoming> {
    const reply = plan.send(node, options);
    const b = this.breakers;
    const o = whole ? this.observer : undefined;
    if (b === undefined) return o === undefined ? reply : this.#watched(plan, reply);
    const { service, area } = plan;
    return reply.then(
      (r) => {
        b.record(service, area, node, undefined);
        if (o !== undefined) reportCall(o, service, options.action ?? Action.HANDLE, plan.startedAt, OK_CODE);
        return r;
      },
      (e: unknown) => {
        const code = toL8Error(e).code;
        b.record(service, area, node, code);
        if (o !== undefined) reportCall(o, service, options.action ?? Action.HANDLE, plan.startedAt, code);
        throw e;
      },
    );
  }

  async #withRetries(plan: CallPlan, policy: FullRetryPolicy, hedge: HedgePolicy | undefined): Promise<Incoming> {
    const budget = this.#budgetOf(plan.service, plan.area);
    budget.request();
    const idempotent = isIdempotent(plan.options.action, plan.options.idempotencyKey);
    const until = performance.now() + plan.timeoutMs;
    let options = plan.options;
    for (let n = 1; ; n++) {
      try {
        return await this.#try(plan, options, hedge);
      } catch (err) {
        const e = toL8Error(err, 'L8_ERR_INTERNAL');
        const delay = backoffMs(n, policy);
        const left = until - performance.now() - delay;
        if (n >= policy.attempts || !mayRetry(e, idempotent) || left < 1 || !budget.tryRetry()) throw e;
        await pause(delay, plan.options.signal);
        options = { ...plan.options, timeoutMs: Math.max(1, Math.floor(until - performance.now())) };
      }
    }
  }

  #budgetOf(service: string, area: number): RetryBudget {
    return kept(this.#budgets, `${area}/${service}`, () => new RetryBudget(this.#budgetOptions));
  }

  #latencyOf(service: string, area: number): LatencyWindow {
    return kept(this.#latencies, `${area}/${service}`, () => new LatencyWindow());
  }
}

/** The value of `key` in `map`, made by `make` when missing; a full map starts over. */
function kept<V>(map: Map<string, V>, key: string, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    if (map.size >= MAX_BUDGETS) map.clear();
    v = make();
    map.set(key, v);
  }
  return v;
}

/** Resolves after `ms` (ref'd: a retry to come is work in progress); rejects `L8_ERR_ABORTED` on `signal`. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = (): void => {
      clearTimeout(timer);
      reject(l8error('L8_ERR_ABORTED', 'request aborted by the caller', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    if (signal?.aborted) return aborted();
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

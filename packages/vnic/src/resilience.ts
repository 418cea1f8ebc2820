import { l8error, type NodeId, toL8Error } from '@layer8/protocol';
import { BreakerBoard, type BreakerListener, type BreakerOptions } from './breaker.ts';
import type { Incoming } from './payload.ts';
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
}

/** One request to make: where, with what options, and how to pick and send to a node. */
export interface CallPlan {
  readonly service: string;
  readonly area: number;
  readonly options: RequestOptions;
  /** The request's whole deadline, ms: retries share it. */
  readonly timeoutMs: number;
  /** The node to send to (an instance mode picks one, respecting the breakers). @throws L8Error */
  pick(): NodeId;
  /** Sends to `node` with `options` (a retry's carry the time left). */
  send(node: NodeId, options: RequestOptions): Promise<Incoming>;
}

/** Services whose retry budget is kept, at most (then the budgets start over). */
const MAX_BUDGETS = 4096;

/**
 * The caller-side resilience of a VNic: every request's outcome goes to its node's circuit breaker
 * (breaker.ts; the instance picker skips open ones), and a request whose policy allows retries is tried
 * again after a full-jitter back-off, within its deadline and its service's retry budget (retry.ts).
 *
 * Invariant: `#budgets` holds at most {@link MAX_BUDGETS} services.
 */
export class Resilience {
  /** The breakers, undefined when `breaker: false`. */
  readonly breakers: BreakerBoard | undefined;
  readonly #retry: RetryPolicy | false | undefined;
  readonly #budgetOptions: RetryBudgetOptions;
  readonly #budgets = new Map<string, RetryBudget>();

  constructor(o: ResilienceOptions) {
    this.breakers = o.breaker === false ? undefined : new BreakerBoard(o.breaker ?? {}, o.onBreaker);
    this.#retry = o.retry;
    this.#budgetOptions = o.retryBudget ?? {};
  }

  /** Makes the request of `plan`: one attempt, or several when its retry policy allows. */
  call(plan: CallPlan): Promise<Incoming> {
    const policy = retryPolicyOf(plan.options.retry, this.#retry);
    if (policy === undefined || policy.attempts <= 1) return this.#attempt(plan, plan.options);
    return this.#withRetries(plan, policy);
  }

  /** Stops the breakers' timers. */
  dispose(): void {
    this.breakers?.dispose();
  }

  /** One attempt; its outcome goes to the breaker of the node it went to. */
  #attempt(plan: CallPlan, options: RequestOptions): Promise<Incoming> {
    const node = plan.pick();
    const reply = plan.send(node, options);
    const b = this.breakers;
    if (b === undefined) return reply;
    return reply.then(
      (r) => {
        b.record(plan.service, plan.area, node, undefined);
        return r;
      },
      (e: unknown) => {
        b.record(plan.service, plan.area, node, toL8Error(e).code);
        throw e;
      },
    );
  }

  async #withRetries(plan: CallPlan, policy: FullRetryPolicy): Promise<Incoming> {
    const budget = this.#budgetOf(plan.service, plan.area);
    budget.request();
    const idempotent = isIdempotent(plan.options.action, plan.options.idempotencyKey);
    const until = performance.now() + plan.timeoutMs;
    let options = plan.options;
    for (let n = 1; ; n++) {
      try {
        return await this.#attempt(plan, options);
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
    const key = `${area}/${service}`;
    let b = this.#budgets.get(key);
    if (b === undefined) {
      if (this.#budgets.size >= MAX_BUDGETS) this.#budgets.clear();
      b = new RetryBudget(this.#budgetOptions);
      this.#budgets.set(key, b);
    }
    return b;
  }
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

import { Action, type L8Error } from '@layer8/protocol';

/** How a request is retried (`RequestOptions.retry`, `VNicOptions.retry`). */
export interface RetryPolicy {
  /** Attempts in all, the first one included. Default 3. */
  readonly attempts?: number;
  /** Cap of the first back-off, ms; each retry doubles it. Default 25. */
  readonly baseMs?: number;
  /** Largest back-off cap, ms. Default 1000. */
  readonly maxMs?: number;
}

/** The retry budget of a VNic (`VNicOptions.retryBudget`): retries allowed per service over a window. */
export interface RetryBudgetOptions {
  /** Retries allowed per request made, over the window. Default 0.1 (10 %). */
  readonly ratio?: number;
  /** Retries allowed per second of the window on top, so that a quiet service can still retry. Default 10. */
  readonly minPerSecond?: number;
  /** The sliding window, whole seconds. Default 10. */
  readonly windowSeconds?: number;
}

/** A retry policy with its defaults filled in. */
export interface FullRetryPolicy {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The policy of a call: its own, else the VNic's default; undefined when retries are off for it. */
export function retryPolicyOf(
  own: RetryPolicy | false | undefined,
  vnic: RetryPolicy | false | undefined,
): FullRetryPolicy | undefined {
  const p = own ?? vnic;
  if (p === undefined || p === false) return undefined;
  return { attempts: p.attempts ?? 3, baseMs: p.baseMs ?? 25, maxMs: p.maxMs ?? 1000 };
}

/** Retryable codes that say the handler did not run: a write without an idempotency key may repeat on them. */
const NOT_RUN_CODES: ReadonlySet<string> = new Set(['L8_ERR_BACKPRESSURE', 'L8_ERR_NO_SERVICE', 'L8_ERR_UNAVAILABLE']);

/** Whether a request may run twice without harm: GET, PUT, DELETE, or any action with an idempotency key. */
export function isIdempotent(action: Action | undefined, idempotencyKey: string | undefined): boolean {
  if (idempotencyKey !== undefined && idempotencyKey.length > 0) return true;
  return action === Action.GET || action === Action.PUT || action === Action.DELETE;
}

/**
 * Whether a failed request may be tried again: the error must be retryable (`L8Error.retryable`), and
 * then either the request is idempotent or the error says its handler did not run (the responder or a
 * queue refused it, or no instance took it). A timeout of a POST may have been applied: not retried.
 */
export function mayRetry(error: L8Error, idempotent: boolean): boolean {
  return error.retryable && (idempotent || NOT_RUN_CODES.has(error.code));
}

/** The back-off before retry `n` (1 for the first): full jitter, uniform in [0, min(maxMs, baseMs × 2^(n-1))). */
export function backoffMs(n: number, p: FullRetryPolicy, random: () => number = Math.random): number {
  return random() * Math.min(p.maxMs, p.baseMs * 2 ** (n - 1));
}

/**
 * The retry budget of one service (the caller side): over a sliding window of whole seconds, retries may
 * be at most `ratio` × the requests made plus `minPerSecond` × the window's seconds, so that retries
 * cannot multiply the load on a service that is down. Counts live in one bucket per second.
 *
 * Invariants: `#requests[i]` and `#retries[i]` count the second `s` with `s % window === i` for the
 * `window` seconds up to `#second`; older seconds are zeroed before a bucket is used again.
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #free: number;
  readonly #requests: number[];
  readonly #retries: number[];
  readonly #now: () => number;
  #second = 0;

  /** @param now the clock, ms (default `Date.now`, which `mock.timers` can drive) */
  constructor(options: RetryBudgetOptions = {}, now: () => number = Date.now) {
    const window = Math.max(1, Math.floor(options.windowSeconds ?? 10));
    this.#ratio = options.ratio ?? 0.1;
    this.#free = (options.minPerSecond ?? 10) * window;
    this.#requests = new Array<number>(window).fill(0);
    this.#retries = new Array<number>(window).fill(0);
    this.#now = now;
  }

  /** Counts a request made (its first attempt). */
  request(): void {
    const at = this.#advance();
    this.#requests[at] = (this.#requests[at] as number) + 1;
  }

  /** Takes one retry from the budget: false, and nothing taken, when the window's allowance is spent. */
  tryRetry(): boolean {
    const at = this.#advance();
    const allowed = this.#free + this.#ratio * sum(this.#requests);
    if (sum(this.#retries) + 1 > allowed) return false;
    this.#retries[at] = (this.#retries[at] as number) + 1;
    return true;
  }

  /** Moves the window to the current second, zeroing the buckets of seconds that left it; its index. */
  #advance(): number {
    const second = Math.floor(this.#now() / 1000);
    const window = this.#requests.length;
    for (let s = Math.max(this.#second + 1, second - window + 1); s <= second; s++) {
      this.#requests[s % window] = 0;
      this.#retries[s % window] = 0;
    }
    this.#second = Math.max(this.#second, second);
    return second % window;
  }
}

function sum(xs: readonly number[]): number {
  let n = 0;
  for (const x of xs) n += x;
  return n;
}

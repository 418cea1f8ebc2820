import { l8error } from '@layer8/protocol';
import { AdaptiveLimit, type AdaptiveLimitOptions, type ConcurrencyLimiter } from './adaptive-limit.ts';

/** A fixed bulkhead: at most `max` at once, and `queue` more may wait (default 0: refused at once). */
export interface BulkheadOptions {
  readonly max: number;
  readonly queue?: number;
}

/** A bound on concurrent requests of one service (a number `n` is `{ max: n }`). */
export type Bulkhead = number | BulkheadOptions;

/**
 * The concurrency limit of one service's handlers at the responder (`SubscribeOptions.concurrency`,
 * `VNicOptions.handlerConcurrency`): a fixed {@link Bulkhead}, or an adaptive limit on measured latency
 * (adaptive-limit.ts); `queue` more may wait in the service's own priority queue (default 0).
 */
export type ConcurrencyLimit = Bulkhead | { readonly adaptive: AdaptiveLimitOptions | true; readonly queue?: number };

/** A bulkhead with its defaults filled in. */
export interface FullBulkhead {
  readonly max: number;
  readonly queue: number;
}

/** A checked responder limit: its limiter, and how many messages may wait for it. */
export interface ServiceLimit {
  readonly limiter: ConcurrencyLimiter;
  readonly queue: number;
}

/** The checked bulkhead of `spec`. @throws L8_ERR_INVALID_ARGUMENT */
export function bulkheadOf(spec: Bulkhead): FullBulkhead {
  const b = typeof spec === 'number' ? { max: spec } : spec;
  const max = b?.max;
  const queue = b?.queue ?? 0;
  if (!isCount(max) || max < 1 || !isCount(queue)) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'a bulkhead needs a whole max ≥ 1 and a whole queue ≥ 0');
  }
  return { max, queue };
}

/** A fresh limiter for `spec`. @throws L8_ERR_INVALID_ARGUMENT */
export function serviceLimitOf(spec: ConcurrencyLimit): ServiceLimit {
  if (typeof spec !== 'object' || spec === null || !('adaptive' in spec)) {
    const b = bulkheadOf(spec);
    return { limiter: new FixedLimit(b.max), queue: b.queue };
  }
  const queue = spec.queue ?? 0;
  const o = spec.adaptive === true ? {} : spec.adaptive;
  if (!isCount(queue) || typeof o !== 'object' || o === null) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'an adaptive limit needs options (or true) and a whole queue ≥ 0');
  }
  return { limiter: new AdaptiveLimit(o), queue };
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

/** A fixed bulkhead at the responder: `max` handlers at once. Invariant: `running` counts slots taken. */
export class FixedLimit implements ConcurrencyLimiter {
  readonly limit: number;
  running = 0;

  constructor(max: number) {
    this.limit = max;
  }

  acquire(): number {
    this.running++;
    return 0;
  }

  release(): void {
    this.running--;
  }
}

/** A request waiting at a caller bulkhead: it goes once fewer than `max` run. */
interface Waiter {
  readonly max: number;
  readonly admit: () => void;
}

/**
 * The bulkhead of one service at the caller: requests in flight, and a FIFO of requests waiting for one of
 * them to finish (each with its own deadline and signal).
 *
 * Invariants: `#running` counts requests admitted and not yet left; `#waiting` is not empty only while its
 * head's `max` is reached.
 */
export class CallerBulkhead {
  #running = 0;
  readonly #waiting: Waiter[] = [];

  /** Requests admitted and not yet finished. */
  get running(): number {
    return this.#running;
  }

  /** Requests waiting to be admitted. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Admits a request of `service` under `b` (bounds are per call, the count per service: a call with a
   * higher `max` goes while fewer than it run): undefined when admitted now, else a promise that resolves once
   * admitted, rejecting `L8_ERR_TIMEOUT` after `timeoutMs` and `L8_ERR_ABORTED` on `signal`. Every admitted
   * request must {@link leave}. @throws L8_ERR_BACKPRESSURE when `max` run and `queue` already wait.
   */
  enter(b: FullBulkhead, service: string, timeoutMs: number, signal?: AbortSignal): Promise<void> | undefined {
    if (this.#running < b.max) {
      this.#running++;
      return undefined;
    }
    if (this.#waiting.length >= b.queue) {
      const state = `${this.#running} in flight, ${this.#waiting.length} waiting`;
      throw l8error('L8_ERR_BACKPRESSURE', `the bulkhead of ${service} at this caller is full: ${state}`);
    }
    return this.#wait(b.max, service, timeoutMs, signal);
  }

  /** A request admitted earlier finished: the oldest waiting one may go. */
  leave(): void {
    this.#running--;
    const next = this.#waiting[0];
    if (next === undefined || this.#running >= next.max) return;
    this.#waiting.shift();
    this.#running++;
    next.admit();
  }

  /** Whether nothing runs or waits (its owner may forget it). */
  get idle(): boolean {
    return this.#running === 0 && this.#waiting.length === 0;
  }

  #wait(max: number, service: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const leaveQueue = (error: Error): void => {
        const i = this.#waiting.indexOf(waiter);
        if (i >= 0) this.#waiting.splice(i, 1);
        settle();
        reject(error);
      };
      const onAbort = (): void => leaveQueue(l8error('L8_ERR_ABORTED', 'request aborted by the caller'));
      const timer = setTimeout(() => {
        leaveQueue(
          l8error('L8_ERR_TIMEOUT', `the ${timeoutMs} ms deadline passed waiting at the bulkhead of ${service}`),
        );
      }, timeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const admit = (): void => {
        settle();
        resolve();
      };
      const waiter: Waiter = { max, admit };
      this.#waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Services whose caller bulkhead is kept, at most (idle ones are forgotten first). */
const MAX_BULKHEADS = 4096;

/**
 * The caller bulkheads of a VNic, one per (service, area), made on first use (by area, then service: no
 * key to build per request).
 *
 * Invariants: `#count` is the number of bulkheads in `#byArea`; past {@link MAX_BULKHEADS}, idle ones are
 * forgotten before another is made.
 */
export class CallerBulkheads {
  readonly #byArea = new Map<number, Map<string, CallerBulkhead>>();
  #count = 0;

  /** The bulkhead of (service, area). */
  of(service: string, area: number): CallerBulkhead {
    let gates = this.#byArea.get(area);
    let g = gates?.get(service);
    if (g !== undefined) return g;
    if (this.#count >= MAX_BULKHEADS) this.#forgetIdle();
    if (gates === undefined) {
      gates = new Map();
      this.#byArea.set(area, gates);
    }
    g = new CallerBulkhead();
    gates.set(service, g);
    this.#count++;
    return g;
  }

  /** The bulkhead of (service, area) if one was made. */
  peek(service: string, area: number): CallerBulkhead | undefined {
    return this.#byArea.get(area)?.get(service);
  }

  #forgetIdle(): void {
    for (const [area, gates] of this.#byArea) {
      for (const [service, g] of gates) if (g.idle) gates.delete(service);
      if (gates.size === 0) this.#byArea.delete(area);
    }
    this.#count = 0;
    for (const gates of this.#byArea.values()) this.#count += gates.size;
  }
}

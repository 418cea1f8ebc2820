/** Options of an adaptive concurrency limit at the responder (`{ adaptive: { … } }`, docs/overlay.md). */
export interface AdaptiveLimitOptions {
  /** The limit once the base latency is known, before the first update. Default 20. */
  readonly initial?: number;
  /** The lowest limit, and the concurrency the base latency is measured at. Default 3. */
  readonly min?: number;
  /** The highest limit. Default 1000. */
  readonly max?: number;
  /**
   * How much slower than the base latency the handlers may get before the limit shrinks: the gradient is
   * `tolerance × base ÷ average`, clamped to [0.5, 2]. Default 1.5.
   */
  readonly tolerance?: number;
  /** How often the limit is recomputed from the average latency of the handlers that settled, ms. Default 100. */
  readonly windowMs?: number;
  /** How often the base latency is measured again, ms (the limit is `min` meanwhile). Default 30000. */
  readonly probeIntervalMs?: number;
  /** Handler runs the base latency is the average of. Default 20. */
  readonly probeSamples?: number;
}

/** The concurrency bound of one service's handlers: a fixed bulkhead or an {@link AdaptiveLimit}. */
export interface ConcurrencyLimiter {
  /** Handlers that may run at once now. */
  readonly limit: number;
  /** Handlers running now (acquired, not released). */
  readonly running: number;
  /** Takes a slot (the caller checked `running < limit`); returns the start time to hand to {@link release}. */
  acquire(): number;
  /** Gives a slot back; `startedAt` is what {@link acquire} returned. */
  release(startedAt: number): void;
}

/** The figures of one base-latency measurement. */
interface Probe {
  /** Only runs started at or after this time are measured (earlier ones ran at a higher concurrency). */
  readonly since: number;
  count: number;
  sum: number;
}

/** Gradient bounds: the limit at most halves or doubles per update. */
const MIN_GRADIENT = 0.5;
const MAX_GRADIENT = 2;
/** A base latency below this (a handler that settles at once) counts as this, ms. */
const MIN_BASE_MS = 0.001;

/**
 * An adaptive concurrency limit on measured handler latency (a gradient controller, as Envoy's adaptive
 * concurrency filter): the base latency is measured at concurrency `min` (`probeSamples` runs, again every
 * `probeIntervalMs`), and every `windowMs` the limit becomes `gradient × limit + √limit` with
 * `gradient = tolerance × base ÷ average latency of the window` clamped to [0.5, 2]. So while the handlers
 * run near their base latency the limit grows (but not past twice the peak concurrency actually used), and
 * when they queue on a saturated resource it shrinks until their latency is near `tolerance × base`.
 *
 * Invariants: `#probe` is set exactly while a base latency is being measured (then {@link limit} is
 * `min`); `#base` is set once the first probe ended; `#limit` stays within [min, max]; `#sum`/`#count`
 * add up the runs settled since `#windowStart` outside a probe; `#peak` is the most running in that window.
 */
export class AdaptiveLimit implements ConcurrencyLimiter {
  readonly #min: number;
  readonly #max: number;
  readonly #tolerance: number;
  readonly #windowMs: number;
  readonly #probeIntervalMs: number;
  readonly #probeSamples: number;
  readonly #now: () => number;
  #limit: number;
  #running = 0;
  #base: number | undefined;
  #probe: Probe | undefined;
  #nextProbe = 0;
  #windowStart = 0;
  #sum = 0;
  #count = 0;
  #peak = 0;

  /** @param now the clock, ms (default `performance.now`; tests pass their own) */
  constructor(o: AdaptiveLimitOptions = {}, now: () => number = () => performance.now()) {
    this.#min = Math.max(1, Math.floor(o.min ?? 3));
    this.#max = Math.max(this.#min, Math.floor(o.max ?? 1000));
    this.#limit = clamp(o.initial ?? 20, this.#min, this.#max);
    this.#tolerance = o.tolerance ?? 1.5;
    this.#windowMs = o.windowMs ?? 100;
    this.#probeIntervalMs = o.probeIntervalMs ?? 30_000;
    this.#probeSamples = Math.max(1, Math.floor(o.probeSamples ?? 20));
    this.#now = now;
    this.#probe = { since: now(), count: 0, sum: 0 };
  }

  get limit(): number {
    return this.#probe === undefined ? Math.floor(this.#limit) : this.#min;
  }

  get running(): number {
    return this.#running;
  }

  /** The base latency measured last, ms; undefined before the first measurement ended. */
  get baseMs(): number | undefined {
    return this.#base;
  }

  acquire(): number {
    if (++this.#running > this.#peak) this.#peak = this.#running;
    return this.#now();
  }

  release(startedAt: number): void {
    this.#running--;
    const now = this.#now();
    const ms = now - startedAt;
    if (this.#probe !== undefined) return this.#probed(this.#probe, startedAt, ms, now);
    this.#sum += ms;
    this.#count++;
    if (now - this.#windowStart >= this.#windowMs) this.#update(now);
  }

  /** A run settled while the base latency is measured. */
  #probed(p: Probe, startedAt: number, ms: number, now: number): void {
    if (startedAt < p.since) return;
    p.sum += ms;
    if (++p.count < this.#probeSamples) return;
    this.#base = Math.max(MIN_BASE_MS, p.sum / p.count);
    this.#probe = undefined;
    this.#nextProbe = now + this.#probeIntervalMs;
    this.#startWindow(now);
  }

  /** The end of a window: the new limit from its average latency, or a new base-latency measurement. */
  #update(now: number): void {
    const average = this.#sum / this.#count;
    const base = this.#base ?? average;
    const gradient =
      average <= 0 ? MAX_GRADIENT : clamp((this.#tolerance * base) / average, MIN_GRADIENT, MAX_GRADIENT);
    let next = gradient * this.#limit + Math.sqrt(this.#limit);
    // a service that never used half its limit says nothing about a higher one
    if (next > this.#limit) next = Math.min(next, Math.max(this.#limit, 2 * this.#peak));
    this.#limit = clamp(next, this.#min, this.#max);
    if (now >= this.#nextProbe) this.#probe = { since: now, count: 0, sum: 0 };
    this.#startWindow(now);
  }

  #startWindow(now: number): void {
    this.#windowStart = now;
    this.#sum = 0;
    this.#count = 0;
    this.#peak = this.#running;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

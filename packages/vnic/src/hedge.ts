import { type L8Error, type NodeId, toL8Error } from '@layer8/protocol';
import type { Incoming } from './payload.ts';

/** When a GET sends a second copy (`RequestOptions.hedge`, `VNicOptions.hedges`, docs/overlay.md). */
export interface HedgePolicy {
  /** The delay before the copy, ms (also while a `percentile` has too few replies to go by). Default 50. */
  readonly delayMs?: number;
  /**
   * Sends the copy once the request has taken longer than this percentile (1-99) of the service's recent
   * latency at this caller (its last 128 hedged reads, once 20 are known). Default none: `delayMs`.
   */
  readonly percentile?: number;
}

/** Default delay of a hedge, ms. */
export const DEFAULT_HEDGE_DELAY_MS = 50;

/** Latencies kept per service, and how many are needed before a percentile is used. */
const WINDOW = 128;
const MIN_SAMPLES = 20;
/** A percentile is computed again after this many new samples. */
const REFRESH = 16;

/**
 * The recent latencies of one service at this caller, for a hedge delay at a percentile.
 *
 * Invariants: `#samples[i % WINDOW]` holds the i-th latency recorded for the last WINDOW of `#n`;
 * `#cached` is the percentile `#cachedP` of them as of at most REFRESH records ago, or undefined.
 */
export class LatencyWindow {
  readonly #samples = new Float64Array(WINDOW);
  #n = 0;
  #cached: number | undefined;
  #cachedP = 0;

  /** Records one latency, ms. */
  record(ms: number): void {
    this.#samples[this.#n++ % WINDOW] = ms;
    if (this.#n % REFRESH === 0) this.#cached = undefined;
  }

  /** The `p`th percentile (1-99) of the recent latencies, ms; undefined with fewer than 20 recorded. */
  percentile(p: number): number | undefined {
    if (this.#n < MIN_SAMPLES) return undefined;
    if (this.#cached === undefined || this.#cachedP !== p) {
      const sorted = this.#samples.slice(0, Math.min(this.#n, WINDOW)).sort();
      this.#cached = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
      this.#cachedP = p;
    }
    return this.#cached;
  }
}

/** The delay of `policy` for a service with these recent latencies, ms. */
export function hedgeDelayMs(policy: HedgePolicy, latencies: LatencyWindow): number {
  const fixed = policy.delayMs ?? DEFAULT_HEDGE_DELAY_MS;
  if (policy.percentile === undefined) return fixed;
  return latencies.percentile(Math.min(99, Math.max(1, policy.percentile))) ?? fixed;
}

/** What a hedge reads of a request's options (`RequestOptions` has them). */
export interface CopyOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** One hedged read: how to pick, send and account for its copies. */
export interface HedgeRun<O extends CopyOptions = CopyOptions> {
  readonly options: O;
  /** The request's whole deadline, ms: the copy gets what is left of it. */
  readonly timeoutMs: number;
  readonly delayMs: number;
  /** Picks an instance (respecting the breakers). @throws L8Error */
  pick(): NodeId;
  /** Sends one copy to `node`. */
  attempt(node: NodeId, options: O): Promise<Incoming>;
  /** Whether a copy may go now: takes one from the service's retry budget. */
  mayHedge(): boolean;
  /** Told how long the first copy took, ms (how long it had run, when the second won). */
  record(ms: number): void;
}

/** Picks tried for an instance other than the first copy's before the hedge is given up. */
const PICKS = 3;

/**
 * Sends a read to one instance and, when no answer came after `delayMs`, a copy to another one (within
 * the retry budget); the first reply wins and the other copy is aborted (its pending entry freed). When
 * one copy fails the other is still awaited; the request fails when every copy sent has failed.
 */
export function hedged<O extends CopyOptions>(run: HedgeRun<O>): Promise<Incoming> {
  return new Promise<Incoming>((resolve, reject) => new HedgedCall(run, resolve, reject).start());
}

/**
 * The state of one hedged read.
 *
 * Invariants: `#live` counts copies sent and not settled; `#done` is set once, when the caller's promise
 * settles, and then every copy's controller has aborted; `#timer` is set until the hedge went or `#done`.
 */
class HedgedCall<O extends CopyOptions> {
  readonly #run: HedgeRun<O>;
  readonly #resolve: (reply: Incoming) => void;
  readonly #reject: (error: L8Error) => void;
  readonly #controllers: AbortController[] = [];
  #live = 0;
  #done = false;
  #first: NodeId | undefined;
  #startedAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(run: HedgeRun<O>, resolve: (reply: Incoming) => void, reject: (error: L8Error) => void) {
    this.#run = run;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    try {
      this.#first = this.#run.pick();
    } catch (err) {
      return this.#reject(toL8Error(err, 'L8_ERR_INTERNAL'));
    }
    this.#startedAt = performance.now();
    this.#send(this.#first, this.#run.options);
    if (!this.#done) this.#timer = setTimeout(() => this.#hedge(), this.#run.delayMs).unref();
  }

  #send(node: NodeId, options: O): void {
    const own = new AbortController();
    const outer = this.#run.options.signal;
    const signal = outer === undefined ? own.signal : AbortSignal.any([outer, own.signal]);
    this.#controllers.push(own);
    this.#live++;
    let reply: Promise<Incoming>;
    try {
      reply = this.#run.attempt(node, { ...options, signal });
    } catch (err) {
      reply = Promise.reject(err); // refused before it left (the pending table is full)
    }
    reply.then(
      (r) => this.#won(r),
      (err: unknown) => this.#lost(toL8Error(err, 'L8_ERR_INTERNAL')),
    );
  }

  /** The delay passed without an answer: a copy to another instance, if there is one and the budget allows. */
  #hedge(): void {
    this.#timer = undefined;
    if (this.#done) return;
    const left = Math.floor(this.#run.timeoutMs - (performance.now() - this.#startedAt));
    const node = this.#other();
    if (node === undefined || left < 1 || !this.#run.mayHedge()) return;
    this.#send(node, { ...this.#run.options, timeoutMs: left });
  }

  /** An instance other than the first copy's, or undefined when the picker offers none. */
  #other(): NodeId | undefined {
    try {
      for (let i = 0; i < PICKS; i++) {
        const node = this.#run.pick();
        if (node !== this.#first) return node;
      }
    } catch {
      // no instance at all now: no hedge
    }
    return undefined;
  }

  #won(reply: Incoming): void {
    this.#live--;
    if (this.#done) return;
    this.#run.record(performance.now() - this.#startedAt);
    this.#finish();
    this.#resolve(reply);
  }

  #lost(error: L8Error): void {
    this.#live--;
    if (this.#done || this.#live > 0) return;
    this.#finish();
    this.#reject(error);
  }

  #finish(): void {
    this.#done = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const c of this.#controllers) c.abort();
  }
}

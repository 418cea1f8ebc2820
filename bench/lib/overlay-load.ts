/**
 * The load side every overlay worker shares, whatever system it drives: closed-loop requests with N in
 * flight and a latency histogram, a one-way sender pump, receive counters, and the `mark` the parent
 * reads at the edges of a measurement window.
 */
import { nextTurn } from './overlay-ipc.ts';

/** What a worker reports at a mark: counters since start, latency since the previous mark. */
/** One-way messages a sender pump offers per event-loop turn, the same for every system (issue 17: equal pump windows). */
export const PUMP_WINDOW = 1024;

export interface Mark {
  /** Requests completed. */
  readonly done: number;
  /** One-way messages handed to the system. */
  readonly sent: number;
  /** One-way messages received by this worker's handlers. */
  readonly received: number;
  readonly errors: number;
  readonly lastError?: string;
  readonly p50Us?: number;
  readonly p99Us?: number;
}

/** Latencies in 1 µs buckets up to 100 ms; the rest count as 100 ms. Constant memory, no sort. */
export class Histogram {
  readonly #buckets = new Uint32Array(100_001);
  #count = 0;

  record(us: number): void {
    const i = us < 100_000 ? Math.round(us) : 100_000;
    this.#buckets[i] = (this.#buckets[i] ?? 0) + 1;
    this.#count++;
  }

  /** The `p`th percentile in µs (0 when empty). */
  percentile(p: number): number {
    const want = Math.ceil((p / 100) * this.#count);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i] as number;
      if (seen >= want && seen > 0) return i;
    }
    return 0;
  }

  get count(): number {
    return this.#count;
  }

  reset(): void {
    this.#buckets.fill(0);
    this.#count = 0;
  }
}

/** A one-way sending step: sends what it can now and returns how many it sent. */
export type SendBatch = () => number | Promise<number>;

/** Drives requests or a one-way stream and counts everything a mark reports. */
export class Driver {
  received = 0;
  #done = 0;
  #sent = 0;
  #errors = 0;
  #lastError: string | undefined;
  #running = false;
  #tasks: Promise<void>[] = [];
  readonly #hist = new Histogram();

  /**
   * Starts `concurrency` request loops; each awaits `call` and issues the next at once. With `yieldEvery`
   * > 0 a loop yields a turn of the event loop every that many calls (outside the timed call), for calls
   * that settle in microtasks only and would otherwise starve I/O.
   */
  requests(call: (lane: number) => Promise<unknown>, concurrency: number, yieldEvery = 0): void {
    this.#running = true;
    for (let i = 0; i < concurrency; i++) this.#tasks.push(this.#lane(call, i, yieldEvery));
  }

  /** Starts a pump that calls `batch` once per event-loop turn until stopped. */
  pump(batch: SendBatch): void {
    this.#running = true;
    this.#tasks.push(this.#pump(batch));
  }

  /** Counters so far, latency percentiles since the last mark (which it resets). */
  mark(): Mark {
    const lat = this.#hist.count === 0 ? {} : { p50Us: this.#hist.percentile(50), p99Us: this.#hist.percentile(99) };
    this.#hist.reset();
    const err = this.#lastError === undefined ? {} : { lastError: this.#lastError };
    return { done: this.#done, sent: this.#sent, received: this.received, errors: this.#errors, ...err, ...lat };
  }

  /** Stops the loops and waits for them to finish their current step. */
  async stop(): Promise<Mark> {
    this.#running = false;
    await Promise.all(this.#tasks);
    this.#tasks = [];
    return this.mark();
  }

  async #lane(call: (lane: number) => Promise<unknown>, lane: number, yieldEvery: number): Promise<void> {
    for (let n = 1; this.#running; n++) {
      const t0 = performance.now();
      try {
        await call(lane);
        this.#hist.record((performance.now() - t0) * 1000);
        this.#done++;
      } catch (err) {
        this.#fail(err);
      }
      if (yieldEvery > 0 && n % yieldEvery === 0) await nextTurn();
    }
  }

  async #pump(batch: SendBatch): Promise<void> {
    while (this.#running) {
      try {
        this.#sent += await batch();
      } catch (err) {
        this.#fail(err);
      }
      await nextTurn();
    }
  }

  #fail(err: unknown): void {
    this.#errors++;
    this.#lastError = String((err as Error).message ?? err);
    if (this.#errors > 10_000) this.#running = false;
  }
}

import { type L8Error, l8error, type NodeId } from '@layer8/protocol';
import type { Incoming } from './payload.ts';

/** One request waiting for its reply. */
interface Waiter {
  readonly resolve: (reply: Incoming) => void;
  readonly reject: (error: L8Error) => void;
  /** The node the request went to. */
  readonly node: NodeId;
  /** `performance.now()` after which it times out. */
  readonly deadline: number;
  readonly onProgress: ((progress: Incoming) => void) | undefined;
  readonly cleanup: (() => void) | undefined;
}

/** How often the deadline sweep runs while requests are pending, ms. */
export const SWEEP_MS = 20;

/**
 * The requester's pending table (DESIGN.md §3): keyed by sequence, deadlines swept by one coarse timer
 * that runs only while something is pending (no timer per request).
 *
 * Invariants: `#seq` is the last sequence handed out (1..2^32-1, wrapping past 0); the sweep timer
 * is set exactly while `#waiting` is not empty.
 */
export class PendingTable {
  readonly #waiting = new Map<number, Waiter>();
  readonly #max: number;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(max: number) {
    this.#max = max;
  }

  /** Number of requests in flight. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Reserves a sequence for a request to `node` with a deadline `timeoutMs` from now.
   * @throws L8_ERR_BACKPRESSURE when the table is full.
   */
  add(
    node: NodeId,
    timeoutMs: number,
    onProgress: Waiter['onProgress'],
    signal: AbortSignal | undefined,
  ): { seq: number; promise: Promise<Incoming> } {
    if (this.#waiting.size >= this.#max)
      throw l8error('L8_ERR_BACKPRESSURE', `${this.#max} requests already in flight`);
    const seq = this.#next();
    const promise = new Promise<Incoming>((resolve, reject) => {
      const cleanup = signal === undefined ? undefined : this.#watch(seq, signal);
      this.#waiting.set(seq, { resolve, reject, node, deadline: performance.now() + timeoutMs, onProgress, cleanup });
    });
    // ref'd: a request in flight is work in progress; the timer stops when the table empties
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS);
    return { seq, promise };
  }

  /** Completes request `seq` with a reply. Unknown sequences are ignored. */
  resolve(seq: number, reply: Incoming): void {
    const w = this.#waiting.get(seq);
    if (w === undefined) return;
    this.#finish(seq, w);
    w.resolve(reply);
  }

  /** Hands an intermediate reply to request `seq`'s progress listener. */
  progress(seq: number, progress: Incoming): void {
    try {
      this.#waiting.get(seq)?.onProgress?.(progress);
    } catch {
      // a caller's progress listener must not break the link that delivered the frame
    }
  }

  /** Fails one request now. */
  fail(seq: number, error: L8Error): void {
    const w = this.#waiting.get(seq);
    if (w === undefined) return;
    this.#finish(seq, w);
    w.reject(error);
  }

  /** Fails every request to `node` (it became unreachable or was removed). */
  failNode(node: NodeId, error: L8Error): void {
    for (const [seq, w] of this.#waiting) if (w.node === node) this.fail(seq, error);
  }

  /** Fails every request. */
  failAll(error: L8Error): void {
    for (const seq of [...this.#waiting.keys()]) this.fail(seq, error);
  }

  #finish(seq: number, w: Waiter): void {
    this.#waiting.delete(seq);
    w.cleanup?.();
    if (this.#waiting.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #watch(seq: number, signal: AbortSignal): () => void {
    const onAbort = (): void =>
      this.fail(seq, l8error('L8_ERR_ABORTED', 'request aborted by the caller', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }

  #next(): number {
    do this.#seq = (this.#seq + 1) >>> 0;
    while (this.#seq === 0 || this.#waiting.has(this.#seq));
    return this.#seq;
  }

  #sweep(): void {
    const now = performance.now();
    for (const [seq, w] of this.#waiting) {
      if (w.deadline <= now) this.fail(seq, l8error('L8_ERR_TIMEOUT', `no reply from ${w.node} within the deadline`));
    }
  }
}

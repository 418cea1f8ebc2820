/** How often queued messages are checked for passed deadlines while the queue is not empty, ms. */
const QUEUE_SWEEP_MS = 50;

/** A message waiting for a handler slot: its own copy of the frame and its absolute deadline. */
export interface Queued {
  readonly frame: Buffer;
  /** `performance.now()` after which it is not started; Infinity when the frame has none. */
  readonly deadline: number;
}

/**
 * The FIFO of messages waiting for a handler slot, bounded by its owner, with a sweep that hands every
 * message whose deadline passed to `onExpired` while the queue is not empty.
 *
 * Invariants: `#items[#head..]` is the queue; `#bytes` is the sum of their frame lengths; the sweep timer
 * is set exactly while the queue is not empty.
 */
export class HandlerQueue {
  #items: Queued[] = [];
  #head = 0;
  #bytes = 0;
  #sweep: NodeJS.Timeout | undefined;
  readonly #onExpired: (frame: Buffer) => void;

  /** @param onExpired told about each message whose deadline passed in the queue (it leaves the queue) */
  constructor(onExpired: (frame: Buffer) => void) {
    this.#onExpired = onExpired;
  }

  /** Messages waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes of the messages waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues a copy of `frame` (it may be a view of a much larger read chunk that would stay alive) with
   * its `performance.now()` deadline (Infinity for none).
   */
  push(frame: Buffer, deadline: number): void {
    this.#add({ frame: Buffer.from(frame), deadline });
  }

  /** The oldest message, or undefined when empty. */
  shift(): Queued | undefined {
    if (this.#head === this.#items.length) return undefined;
    const q = this.#items[this.#head++] as Queued;
    this.#bytes -= q.frame.length;
    if (this.#head === this.#items.length) this.clear();
    else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return q;
  }

  /** Empties the queue without telling anyone. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #add(q: Queued): void {
    this.#items.push(q);
    this.#bytes += q.frame.length;
    this.#sweep ??= setInterval(() => this.#expire(), QUEUE_SWEEP_MS).unref();
  }

  /** Hands every message whose deadline passed to `onExpired`, keeping the rest in order. */
  #expire(): void {
    const now = performance.now();
    const waiting = this.#items.slice(this.#head);
    this.clear();
    for (const q of waiting) {
      if (q.deadline <= now) this.#onExpired(q.frame);
      else this.#add(q);
    }
  }
}

/**
 * Runs tasks one at a time per key, in the order they were queued (writes and replica applies of one
 * entity must not interleave across the awaits of a store).
 *
 * Invariant: `#tails` holds a key exactly while a task of it runs or waits.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task of `key`; its result or error is the caller's. */
  run<R>(key: string, task: () => Promise<R>): Promise<R> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  /** Keys with a task running or waiting. */
  get busy(): number {
    return this.#tails.size;
  }
}

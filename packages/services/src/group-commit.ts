import type { Message } from '@bufbuild/protobuf';
import { L8Error } from '@layer8/protocol';
import type { Store, StoreOp } from '@layer8/store';

/** Most operations committed in one transaction. */
export const MAX_GROUP = 1024;

interface Waiting<T extends Message> {
  readonly op: StoreOp<T>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit in front of a store: the writes that arrive in one turn of the event loop (concurrent
 * writes of different keys) are committed in one transaction, and each is acknowledged once that
 * transaction is durable. One fsync serves many writes instead of one each.
 *
 * A group the store refuses for one operation's sake (`L8_ERR_INVALID_ARGUMENT`) is retried one operation
 * at a time, so that operation fails alone and the others still commit (a batch is all-or-nothing; a
 * group is only a way of sharing the fsync). Any other failure (`L8_ERR_STORAGE`: disk full, database
 * unreachable) fails the whole group at once.
 *
 * Invariants: at most one group is being committed at a time; `#waiting` holds the operations that
 * arrived since that group was taken; a flush is scheduled exactly while `#waiting` is non-empty and no
 * group runs.
 */
export class GroupCommit<T extends Message = Message> {
  readonly #store: Store<T>;
  #waiting: Waiting<T>[] = [];
  #running = false;
  #scheduled = false;

  constructor(store: Store<T>) {
    this.#store = store;
  }

  /** Commits `op` with the other writes of this turn; resolves when it is durable. @throws the store's error */
  submit(op: StoreOp<T>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ op, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const group = this.#waiting.splice(0, MAX_GROUP);
    if (group.length === 0) return;
    this.#running = true;
    try {
      await this.#commit(group);
    } finally {
      this.#running = false;
      if (this.#waiting.length > 0) this.#schedule();
    }
  }

  async #commit(group: Waiting<T>[]): Promise<void> {
    try {
      await this.#store.batch(group.map((w) => w.op));
      for (const w of group) w.resolve();
    } catch (err) {
      if (group.length > 1 && err instanceof L8Error && err.code === 'L8_ERR_INVALID_ARGUMENT') {
        for (const w of group) await this.#commit([w]);
      } else for (const w of group) w.reject(err);
    }
  }
}

import type { Payload } from '@layer8/vnic';

/** An idempotency record: when the first write of a key started and its result. */
interface Record {
  readonly at: number;
  readonly result: Promise<Payload>;
}

/**
 * The idempotency window of one instance: a keyed write runs once within `windowMs`, and a retry (or
 * a concurrent duplicate) gets the first one's result. A write that failed changed nothing, so its key
 * is forgotten and a retry runs again. Keys are scoped by identity.
 *
 * Invariants: `#records` holds at most `max` keys, oldest first (Map insertion order); a record older
 * than `windowMs` is never answered from.
 */
export class IdempotencyWindow {
  readonly #records = new Map<string, Record>();
  readonly #windowMs: number;
  readonly #max: number;

  constructor(windowMs: number, max = 100_000) {
    this.#windowMs = windowMs;
    this.#max = max;
  }

  /** Keys held. */
  get size(): number {
    return this.#records.size;
  }

  /** Runs `write` once per (identity, key) within the window; later calls get its result. */
  run(identity: string, key: string, write: () => Promise<Payload>): Promise<Payload> {
    const k = `${identity}\u0000${key}`;
    const now = performance.now();
    const held = this.#records.get(k);
    if (held !== undefined && now - held.at < this.#windowMs) return held.result;
    this.#records.delete(k);
    const result = write();
    this.#records.set(k, { at: now, result });
    result.catch(() => {
      if (this.#records.get(k)?.result === result) this.#records.delete(k);
    });
    this.#trim(now);
    return result;
  }

  #trim(now: number): void {
    for (const [k, r] of this.#records) {
      if (this.#records.size <= this.#max && now - r.at < this.#windowMs) return;
      this.#records.delete(k);
    }
  }
}

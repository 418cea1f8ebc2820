/** Notifications kept while the link cannot take them; past this the oldest are dropped (and counted). */
export const OUTBOX_MAX = 10_000;
/** First and largest wait between two attempts to send what is kept, ms. */
const FIRST_MS = 5;
const MAX_MS = 1000;

/** What an outbox sends through and counts into. */
export interface OutboxHost {
  /** Sends one encoded notification; throws when the link cannot take it now. */
  send(bytes: Uint8Array): void;
  /** A notification that was dropped (the outbox was full): replicas learn of it only by recovery. */
  dropped(): void;
}

/**
 * The change notifications of one instance on their way to the change stream. A notification the link
 * refuses (back-pressure, a link down) is kept and sent again later, in order, with a growing wait, so a
 * burst of writes does not leave the other instances stale until the key is written again. Bounded: past
 * {@link OUTBOX_MAX} kept notifications the oldest is dropped and counted.
 *
 * Invariants: `#kept` is non-empty exactly while a retry is scheduled; notifications leave in the order
 * they came (a new one waits behind the kept ones).
 */
export class Outbox {
  readonly #host: OutboxHost;
  #kept: Uint8Array[] = [];
  #waitMs = FIRST_MS;
  #timer: NodeJS.Timeout | undefined;

  constructor(host: OutboxHost) {
    this.#host = host;
  }

  /** Notifications waiting for the link. */
  get size(): number {
    return this.#kept.length;
  }

  /** Sends `bytes` now, or keeps it for later when the link refuses it or others wait before it. */
  send(bytes: Uint8Array): void {
    if (this.#kept.length === 0 && this.#try(bytes)) return;
    this.#kept.push(bytes);
    if (this.#kept.length > OUTBOX_MAX) {
      this.#kept.shift();
      this.#host.dropped();
    }
    this.#timer ??= setTimeout(() => this.#retry(), this.#waitMs);
  }

  /** Stops retrying; what is kept is dropped (the instance is going away). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#kept = [];
  }

  #retry(): void {
    this.#timer = undefined;
    let sent = 0;
    while (sent < this.#kept.length && this.#try(this.#kept[sent] as Uint8Array)) sent++;
    this.#kept = this.#kept.slice(sent);
    if (this.#kept.length === 0) {
      this.#waitMs = FIRST_MS;
      return;
    }
    this.#waitMs = sent > 0 ? FIRST_MS : Math.min(MAX_MS, this.#waitMs * 2);
    this.#timer = setTimeout(() => this.#retry(), this.#waitMs);
  }

  #try(bytes: Uint8Array): boolean {
    try {
      this.#host.send(bytes);
      return true;
    } catch {
      return false;
    }
  }
}

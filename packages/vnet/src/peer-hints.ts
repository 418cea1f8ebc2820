import type { DialLimits, RetireReason } from './peer-dialer.ts';

/** A dialer of one discovered address, as the hint table sees it (a {@link PeerDialer}). */
export interface HintDialer {
  /** Whether a dial ever passed the membership proof. */
  readonly proven: boolean;
  /** Whether the VNet behind the address is linked now. */
  readonly linked: boolean;
  /** Stops for good; reports `reason` through the dialer's `onRetired`. */
  retire(reason: RetireReason): void;
}

/** Starts dialling a discovered address under `limits`. */
export type StartDialer = (address: { host: string; port: number }, limits: DialLimits) => HintDialer;

/** Bounds of the hint table (resolved {@link DiscoveryOptions}). */
export interface PeerHintsOptions {
  /** Most addresses held at once, dialled or quarantined. */
  readonly max: number;
  /** An address not re-announced for this long is forgotten; a failed one stays quiet this long, ms. */
  readonly ttlMs: number;
  /** Failed dials in a row after which an address is dropped (and quarantined). */
  readonly maxFailures: number;
}

interface Hint {
  dialer: HintDialer | undefined;
  /** When the address was last announced (`performance.now()`, ms). */
  heardAt: number;
  /** While no dialer: the address is ignored until then. */
  quietUntil: number;
}

/**
 * Addresses heard in beacons (DESIGN.md §4). A beacon proves nothing: it only makes the VNet dial, and the
 * link's membership proof decides. So every address is a hint with a bounded cost: at most `max` are held,
 * each dialled with back-off and dropped after `maxFailures` failed dials in a row (then ignored for
 * `ttlMs`, so re-announcing it does not restart the dials) or when not re-announced within `ttlMs`.
 * A dropped hint stops its dialer; a link it made stays up.
 *
 * Invariants: `#hints.size <= max`; map order is the order of last announcement (oldest first); an entry
 * without a dialer is quarantined until `quietUntil`. When full, a new address evicts the oldest
 * quarantined entry, else the oldest never proven, else the oldest not linked now; a linked one never.
 */
export class PeerHints {
  readonly #o: PeerHintsOptions;
  readonly #start: StartDialer;
  readonly #hints = new Map<string, Hint>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: PeerHintsOptions, start: StartDialer) {
    this.#o = options;
    this.#start = start;
    this.#timer = setInterval(() => this.#sweep(), Math.max(10, options.ttlMs / 4)).unref();
  }

  /** Addresses held now (dialled or quarantined). */
  get size(): number {
    return this.#hints.size;
  }

  /** An announcement of `host:port`: refreshes a known address, or admits and dials a new one. */
  heard(host: string, port: number): void {
    const key = `${host}:${port}`;
    const known = this.#hints.get(key);
    if (known !== undefined) {
      known.heardAt = performance.now();
      this.#hints.delete(key);
      this.#hints.set(key, known);
      return;
    }
    if (this.#hints.size >= this.#o.max && !this.#evict()) return;
    const hint: Hint = { dialer: undefined, heardAt: performance.now(), quietUntil: 0 };
    this.#hints.set(key, hint);
    hint.dialer = this.#start(
      { host, port },
      { maxFailures: this.#o.maxFailures, onRetired: (reason) => this.#retired(key, hint, reason) },
    );
  }

  /** Stops the sweep and every dialer (idempotent). */
  close(): void {
    clearInterval(this.#timer);
    const all = [...this.#hints.values()];
    this.#hints.clear();
    for (const h of all) h.dialer?.retire('closed');
  }

  #retired(key: string, hint: Hint, reason: RetireReason): void {
    if (reason !== 'failed' || this.#hints.get(key) !== hint) return;
    hint.dialer = undefined;
    hint.quietUntil = performance.now() + this.#o.ttlMs;
  }

  #sweep(): void {
    const now = performance.now();
    for (const [key, h] of this.#hints) {
      if (h.dialer === undefined ? now >= h.quietUntil : now - h.heardAt > this.#o.ttlMs) this.#drop(key, h, 'expired');
    }
  }

  #evict(): boolean {
    const order: ((h: Hint) => boolean)[] = [
      (h) => h.dialer === undefined,
      (h) => h.dialer?.proven === false,
      (h) => h.dialer?.linked === false,
    ];
    for (const pick of order) {
      for (const [key, h] of this.#hints) {
        if (!pick(h)) continue;
        this.#drop(key, h, 'evicted');
        return true;
      }
    }
    return false;
  }

  #drop(key: string, hint: Hint, reason: RetireReason): void {
    this.#hints.delete(key);
    hint.dialer?.retire(reason);
  }
}

/** Limits of failed logins (docs/gateway.md, "Rate limits"). */
export interface LoginLimits {
  /** Failures of one user name within `windowMs` before it is locked. Default 5. */
  readonly perUser?: number;
  /** Failures from one address within `windowMs` before it is locked. Default 20. */
  readonly perAddress?: number;
  /** The window failures are counted in, ms. Default 15 minutes. */
  readonly windowMs?: number;
  /** The first lock-out, ms; each further one doubles it. Default 15 minutes. */
  readonly lockoutMs?: number;
  /** The longest lock-out, ms. Default 24 hours. */
  readonly maxLockoutMs?: number;
  /** Most keys tracked; beyond it the oldest unlocked ones are forgotten. Default 10000. */
  readonly maxKeys?: number;
}

/** The failures of one key. Invariant: `failures` holds times within the window, oldest first. */
interface Entry {
  failures: number[];
  /** Epoch ms until which the key is locked; 0 when it is not. */
  lockedUntil: number;
  /** Lock-outs so far: the next one lasts lockoutMs × 2^lockouts. */
  lockouts: number;
}

/** The keys of one login attempt: its user name and its source address. */
export type LoginKeys = readonly [user: string, address: string];

/**
 * Counts failed logins per user name and per source address, in memory (each gateway counts its own:
 * docs/gateway.md says why that is acceptable). A key with too many failures in the window is locked;
 * lock-outs double up to a maximum. A success clears the user's count, never the address's, so one
 * valid account cannot be used to reset an address that guesses others' passwords.
 */
export class LoginLimiter {
  readonly #l: Required<LoginLimits>;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  /** A limiter with `limits`; `now` is the clock (epoch ms). */
  constructor(limits: LoginLimits = {}, now: () => number = Date.now) {
    const windowMs = limits.windowMs ?? 15 * 60_000;
    this.#l = {
      perUser: limits.perUser ?? 5,
      perAddress: limits.perAddress ?? 20,
      windowMs,
      lockoutMs: limits.lockoutMs ?? windowMs,
      maxLockoutMs: limits.maxLockoutMs ?? 24 * 3_600_000,
      maxKeys: limits.maxKeys ?? 10_000,
    };
    this.#now = now;
  }

  /** Ms until an attempt with `keys` may be made; 0 when it may be made now. */
  waitMs(keys: LoginKeys): number {
    const now = this.#now();
    return Math.max(0, ...this.#keysOf(keys).map((k) => (this.#entries.get(k)?.lockedUntil ?? 0) - now));
  }

  /** Counts a failed attempt against both keys, locking a key that reached its limit. */
  failed(keys: LoginKeys): void {
    const [user, address] = this.#keysOf(keys) as [string, string];
    this.#fail(user, this.#l.perUser);
    this.#fail(address, this.#l.perAddress);
  }

  /** Clears the user's failures after a successful login. */
  succeeded(keys: LoginKeys): void {
    this.#entries.delete(this.#keysOf(keys)[0] as string);
  }

  #keysOf([user, address]: LoginKeys): string[] {
    return [`u:${user}`, `a:${address}`];
  }

  #fail(key: string, limit: number): void {
    const now = this.#now();
    const e = this.#entry(key);
    e.failures = e.failures.filter((t) => t > now - this.#l.windowMs);
    e.failures.push(now);
    if (e.failures.length < limit) return;
    const ms = Math.min(this.#l.maxLockoutMs, this.#l.lockoutMs * 2 ** e.lockouts);
    e.lockedUntil = now + ms;
    e.lockouts++;
    e.failures = [];
  }

  /** The entry of `key`, made (and moved to the end of the map, the newest) on use. */
  #entry(key: string): Entry {
    const e = this.#entries.get(key) ?? { failures: [], lockedUntil: 0, lockouts: 0 };
    this.#entries.delete(key);
    this.#evict();
    this.#entries.set(key, e);
    return e;
  }

  /** Forgets entries past the window and not locked, then the oldest unlocked ones while over the bound. */
  #evict(): void {
    if (this.#entries.size < this.#l.maxKeys) return;
    const now = this.#now();
    for (const [k, e] of this.#entries) {
      const quiet = e.lockedUntil <= now && e.failures.every((t) => t <= now - this.#l.windowMs);
      if (quiet || this.#entries.size >= this.#l.maxKeys) this.#entries.delete(k);
      if (this.#entries.size < this.#l.maxKeys / 2) return;
    }
  }
}

import type { LinkAddress } from '@layer8/link';
import { BACKOFF, jittered, type L8Error, nextDelay, toL8Error } from '@layer8/protocol';
import type { OpenedLink } from '@layer8/security';

/** What a {@link PeerDialer} needs from its VNet. */
export interface DialerHost {
  /** Dials and completes link setup. */
  dial(address: LinkAddress): Promise<OpenedLink>;
  /** Adopts an opened link as a peer; returns the peer's VNet id. */
  adopt(opened: OpenedLink): string | undefined;
  /** Whether a live link to VNet `id` exists (in either direction). */
  hasPeer(id: string): boolean;
  /** Reports a failed attempt (for logs and tests). */
  onDialError(address: LinkAddress, error: L8Error): void;
}

/** Back-off of peer redials: first delay, cap, and jitter fraction (the shared `BACKOFF` of `@layer8/protocol`). */
export const REDIAL = BACKOFF;

/** Why a dialer of a discovered address retired. */
export type RetireReason = 'failed' | 'expired' | 'evicted' | 'closed';

/** Limits of a dialer for a discovered address; a static seed has none and redials forever. */
export interface DialLimits {
  /** Consecutive failed dials after which the dialer retires itself with reason `failed`. */
  readonly maxFailures: number;
  /** Called once, after the dialer stopped for good. */
  readonly onRetired: (reason: RetireReason) => void;
}

/**
 * Keeps one peer address connected: dials, and redials with exponential back-off and jitter whenever no
 * live link to the VNet last seen at that address exists (DESIGN.md §4 "peering"). With
 * {@link DialLimits} (a discovered address) it gives up after `maxFailures` failed dials in a row.
 *
 * Invariants: at most one timer or dial is outstanding (`#busy`); `#knownId` is the VNet id the last
 * successful dial proved (set even when the link lost the duplicate tie-break: the VNet is linked through
 * the other one); `#failures` counts failed dials since the last success; once `#stopped`, nothing is
 * scheduled again.
 */
export class PeerDialer {
  readonly address: LinkAddress;
  readonly #host: DialerHost;
  readonly #limits: DialLimits | undefined;
  #knownId: string | undefined;
  #delay: number = REDIAL.firstMs;
  #failures = 0;
  #busy = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(address: LinkAddress, host: DialerHost, limits?: DialLimits) {
    this.address = address;
    this.#host = host;
    this.#limits = limits;
  }

  /** Whether a dial to this address ever passed the membership proof. */
  get proven(): boolean {
    return this.#knownId !== undefined;
  }

  /** Whether the VNet behind this address is linked now (in either direction). */
  get linked(): boolean {
    return this.#knownId !== undefined && this.#host.hasPeer(this.#knownId);
  }

  /** Dials now. */
  start(): void {
    this.#schedule(0);
  }

  /** Stops for good and reports `reason` to the limits' `onRetired` (once; a no-op after {@link stop}). */
  retire(reason: RetireReason): void {
    if (this.#stopped) return;
    this.stop();
    this.#limits?.onRetired(reason);
  }

  /** Called when any peer link goes down: redials if the one behind this address is gone. */
  poke(): void {
    if (this.#stopped || this.#busy) return;
    if (this.#knownId !== undefined && this.#host.hasPeer(this.#knownId)) return;
    this.#schedule(this.#delay);
  }

  /** Stops redialling (idempotent). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#busy) return;
    this.#busy = true;
    this.#timer = setTimeout(() => void this.#attempt(), jittered(ms, REDIAL.jitter));
    this.#timer.unref();
  }

  async #attempt(): Promise<void> {
    let failed = false;
    try {
      if (this.#knownId === undefined || !this.#host.hasPeer(this.#knownId)) {
        const opened = await this.#host.dial(this.address);
        if (this.#stopped) opened.stream.destroy();
        else this.#knownId = this.#host.adopt(opened) ?? this.#knownId;
        this.#delay = REDIAL.firstMs;
      }
    } catch (err) {
      // an attempt that ends after stop() is no longer news: the VNet is closed or the address retired
      if (!this.#stopped) this.#host.onDialError(this.address, toL8Error(err, 'L8_ERR_CONNECT'));
      this.#delay = nextDelay(this.#delay, REDIAL.maxMs);
      failed = true;
    }
    this.#busy = false;
    this.#failures = failed ? this.#failures + 1 : 0;
    if (this.#limits !== undefined && this.#failures >= this.#limits.maxFailures) this.retire('failed');
    else if (failed) this.#schedule(this.#delay);
    else this.poke();
  }
}

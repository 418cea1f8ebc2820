import { type L8Error, toL8Error } from '@layer8/protocol';
import type { LinkAddress, OpenedLink } from '@layer8/security';

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

/** Back-off of peer redials: first delay, cap, and jitter fraction. */
export const REDIAL = { firstMs: 100, maxMs: 5000, jitter: 0.3 } as const;

/**
 * Keeps one static peer address connected: dials, and redials with exponential back-off and jitter
 * whenever no live link to the VNet last seen at that address exists (DESIGN.md §4 "peering").
 *
 * Invariants: at most one timer or dial is outstanding (`#busy`); `#knownId` is the VNet id the last
 * successful dial returned.
 */
export class PeerDialer {
  readonly address: LinkAddress;
  readonly #host: DialerHost;
  #knownId: string | undefined;
  #delay: number = REDIAL.firstMs;
  #busy = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(address: LinkAddress, host: DialerHost) {
    this.address = address;
    this.#host = host;
  }

  /** Dials now. */
  start(): void {
    this.#schedule(0);
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
    const jittered = ms * (1 + REDIAL.jitter * (Math.random() * 2 - 1));
    this.#timer = setTimeout(() => void this.#attempt(), Math.max(0, jittered));
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
      this.#host.onDialError(this.address, toL8Error(err, 'L8_ERR_CONNECT'));
      this.#delay = Math.min(REDIAL.maxMs, this.#delay * 2);
      failed = true;
    }
    this.#busy = false;
    if (failed) this.#schedule(this.#delay);
    else this.poke();
  }
}

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type NodeId, toL8Error } from '@layer8/protocol';
import type { Incoming, Target, VNic } from '@layer8/vnic';
import { wallNow } from './agent-protocol.ts';
import {
  ANSWERED,
  ECHO_SERVICE,
  type LoadBatch,
  type LoadFinal,
  type LoadOptions,
  NEWS_SERVICE,
  type SettledRequest,
} from './load-batch.ts';
import { Prng } from './prng.ts';

/** How often the load sends, ms (a request rate is spread over these ticks). */
const TICK_MS = 20;
/** A request settled this long after its deadline is late: the sweep timer's period plus slack, ms. */
export const LATE_GRACE_MS = 250;
/** A tick this late means the process did not run meanwhile (stopped or starved of CPU), ms. */
const STALL_MS = 100;

/** The totals a {@link LoadDriver} keeps; each batch carries them. */
interface Totals {
  sent: number;
  mcastSent: number;
  delivered: number;
  handled: number;
  dupRequests: number;
  dupDeliveries: number;
  mismatched: number;
}

/**
 * The load a chaos VNic agent drives in one run (docs/reliability.md): requests to `chaos.echo`, half
 * round-robin and half to a named node, and multicasts to `chaos.news`; the agent's handlers hand it what
 * they serve ({@link echo}, {@link news}), so that a request served twice or a multicast copy received
 * twice is counted. Every request's outcome is kept until the next batch.
 *
 * Invariants: `#inFlight` maps the requests sent and not settled to their send time; `#settled` and
 * `#stalls` hold the outcomes and the stalls since the last {@link take}; `#seenRequests` and `#seenNews`
 * the keys of what the handlers saw; `#lastTick` is when the last tick ran.
 */
export class LoadDriver {
  readonly #vnic: VNic;
  readonly #o: LoadOptions;
  readonly #prng: Prng;
  readonly #totals: Totals = {
    sent: 0,
    mcastSent: 0,
    delivered: 0,
    handled: 0,
    dupRequests: 0,
    dupDeliveries: 0,
    mismatched: 0,
  };
  readonly #mcastRefused: Record<string, number> = {};
  readonly #inFlight = new Map<number, number>();
  #settled: SettledRequest[] = [];
  #stalls: [number, number][] = [];
  #lastTick = wallNow();
  readonly #seenRequests = new Set<string>();
  readonly #seenNews = new Set<string>();
  readonly #lag = monitorEventLoopDelay({ resolution: 10 });
  #timer: NodeJS.Timeout | undefined;
  #credit = 0;
  #mcastCredit = 0;

  constructor(vnic: VNic, options: LoadOptions) {
    this.#vnic = vnic;
    this.#o = options;
    this.#prng = new Prng(options.seed);
  }

  /** Starts sending. */
  start(): void {
    this.#lastTick = wallNow();
    this.#lag.enable();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** The batch since the previous call (its counters are totals). */
  take(): Omit<LoadBatch, 'health' | 'states'> {
    const settled = this.#settled;
    this.#settled = [];
    const stalls = this.#stalls;
    this.#stalls = [];
    const lagMs = this.#lag.max / 1e6;
    this.#lag.reset();
    return { ...this.#totals, settled, mcastRefused: { ...this.#mcastRefused }, lagMs, stalls };
  }

  /**
   * Stops sending and waits until every request in flight settled or is past its deadline and the grace;
   * answers the send times of those still unsettled (lost). The handlers keep serving others.
   */
  async stop(): Promise<LoadFinal> {
    clearInterval(this.#timer);
    const until = performance.now() + this.#o.timeoutMs + LATE_GRACE_MS;
    while (this.#inFlight.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, TICK_MS));
    this.#lag.disable();
    return { unsettled: [...this.#inFlight.values()] };
  }

  #tick(): void {
    const now = wallNow();
    if (now - this.#lastTick > STALL_MS) this.#stalls.push([this.#lastTick, now]);
    this.#lastTick = now;
    this.#credit = Math.min(this.#credit + (this.#o.rate * TICK_MS) / 1000, this.#o.maxInFlight);
    while (this.#credit >= 1 && this.#inFlight.size < this.#o.maxInFlight) {
      this.#credit--;
      this.#request();
    }
    this.#mcastCredit += (this.#o.mcastRate * TICK_MS) / 1000;
    for (; this.#mcastCredit >= 1; this.#mcastCredit--) this.#multicast();
  }

  #request(): void {
    const n = ++this.#totals.sent;
    const sentAt = wallNow();
    this.#inFlight.set(n, sentAt);
    this.#vnic.request(this.#target(), { n }, { timeoutMs: this.#o.timeoutMs }).then(
      (reply) => this.#settle(n, sentAt, this.#matches(reply, n) ? ANSWERED : 'MISMATCH'),
      (err: unknown) => this.#settle(n, sentAt, toL8Error(err).code),
    );
  }

  /** Half the requests round-robin, half to a node picked from health (another host's, when there is one). */
  #target(): Target {
    const others = this.#vnic.health.instances(ECHO_SERVICE, 0).filter((r) => r.vnet !== this.#vnic.vnetId);
    if (others.length === 0 || this.#prng.next() < 0.5) return { service: ECHO_SERVICE };
    return { service: ECHO_SERVICE, node: this.#prng.pick(others).id };
  }

  #matches(reply: Incoming, n: number): boolean {
    try {
      return reply.json<{ n: number }>().n === n;
    } catch {
      return false;
    }
  }

  #settle(n: number, sentAt: number, code: string): void {
    this.#inFlight.delete(n);
    if (code === 'MISMATCH') this.#totals.mismatched++;
    this.#settled.push([sentAt, wallNow() - sentAt, code]);
  }

  #multicast(): void {
    const q = ++this.#totals.mcastSent;
    try {
      this.#vnic.multicast({ service: NEWS_SERVICE }, { q });
    } catch (err) {
      const code = toL8Error(err).code;
      this.#mcastRefused[code] = (this.#mcastRefused[code] ?? 0) + 1;
    }
  }

  /** Counts a request the echo handler served (a second time, for the same requester and number, is a duplicate). */
  echo(n: number, source: NodeId): void {
    this.#totals.handled++;
    this.#count(this.#seenRequests, `${source}:${n}`, 'dupRequests');
  }

  /** Counts a multicast copy the news handler received (a second one from the same sender is a duplicate). */
  news(q: number, source: NodeId): void {
    this.#totals.delivered++;
    this.#count(this.#seenNews, `${source}:${q}`, 'dupDeliveries');
  }

  #count(seen: Set<string>, key: string, dup: 'dupRequests' | 'dupDeliveries'): void {
    if (seen.has(key)) this.#totals[dup]++;
    else seen.add(key);
  }
}

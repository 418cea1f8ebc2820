import type { LinkAddress } from '@layer8/link';
import { type NodeId, toL8Error } from '@layer8/protocol';
import type { SecurityProvider } from '@layer8/security';
import { VNic } from '@layer8/vnic';
import { bump } from './target-config.ts';

/** What the control pair saw while the fuzzer ran. */
export interface ControlTally {
  /** Requests made. */
  requests: number;
  answered: number;
  failedByCode: Record<string, number>;
  /** Longest time without an answered request, ms (from the first answer to the end). */
  longestGapMs: number;
  /** Gaps longer than the hang deadline: times the VNet stopped serving the pair. */
  stalls: number;
}

/** The ids and providers of the two VNics. */
export interface ControlPairOptions {
  readonly vnet: LinkAddress;
  readonly server: { readonly id: NodeId; readonly provider: SecurityProvider };
  readonly client: { readonly id: NodeId; readonly provider: SecurityProvider };
  /** The service the server echoes on. */
  readonly service: string;
  /** A gap without answers longer than this is a stall, ms; also each request's deadline. */
  readonly hangMs: number;
}

/** Pause after a failed request before the next, ms (a refusing VNet is not asked in a tight loop). */
const RETRY_MS = 10;

/** Pause after an answer before the next request, ms: the pair measures service, it is not load. */
const PACE_MS = 5;

/**
 * Two well-behaved VNics attached to the VNet under fuzz: one echoes, the other calls it in a loop,
 * one request at a time. Whether the VNet keeps serving them while hostile links hammer it is the
 * fuzzer's measure of a hang: a gap without answers longer than `hangMs` is a stall.
 *
 * Invariant: `#lastAnswer` is the `performance.now()` of the last answer (of the start before the first);
 * the loop runs from {@link start} until {@link stop}.
 */
export class ControlPair {
  readonly tally: ControlTally = { requests: 0, answered: 0, failedByCode: {}, longestGapMs: 0, stalls: 0 };
  readonly server: VNic;
  readonly #client: VNic;
  readonly #o: ControlPairOptions;
  #running = false;
  #loop: Promise<void> | undefined;
  #lastAnswer = 0;

  constructor(o: ControlPairOptions) {
    this.#o = o;
    // the pair checks that the target VNet serves: its requests must cross it, never a direct link
    const common = { vnet: o.vnet, reconnect: { firstMs: 10, maxMs: 200 }, breaker: false as const, direct: false };
    this.server = new VNic({ ...common, id: o.server.id, provider: o.server.provider, alias: 'fuzz-control-server' });
    this.#client = new VNic({ ...common, id: o.client.id, provider: o.client.provider, alias: 'fuzz-control-client' });
    this.server.subscribe({ service: o.service, area: 0 }, (m) => m.payload);
  }

  /** Connects both and starts the request loop once the first request is answered. @throws the connect error */
  async start(): Promise<void> {
    await Promise.all([this.server.connect(), this.#client.connect()]);
    this.#running = true;
    await this.#call();
    this.#lastAnswer = performance.now();
    this.#loop = this.#run();
  }

  /** How long the pair has gone without an answer, ms (0 before it started). */
  get silentMs(): number {
    return this.#running ? performance.now() - this.#lastAnswer : 0;
  }

  /** The VNet the pair is attached to (its id, once connected). */
  get vnetId(): NodeId | undefined {
    return this.server.vnetId;
  }

  /** Ends the loop, closes both VNics and returns the tally (idempotent). */
  async stop(): Promise<ControlTally> {
    const running = this.#running;
    this.#running = false;
    await this.#loop;
    if (running) this.#gap(performance.now());
    await Promise.all([this.#client.close(), this.server.close()]);
    return this.tally;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        await this.#call();
        const now = performance.now();
        this.#gap(now);
        this.#lastAnswer = now;
        await new Promise((r) => setTimeout(r, PACE_MS));
      } catch (err) {
        bump(this.tally.failedByCode, toL8Error(err).code);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  async #call(): Promise<void> {
    this.tally.requests++;
    await this.#client.request({ service: this.#o.service, node: this.server.id }, 'ping', {
      timeoutMs: this.#o.hangMs,
    });
    this.tally.answered++;
  }

  #gap(now: number): void {
    const gap = now - this.#lastAnswer;
    this.tally.longestGapMs = Math.max(this.tally.longestGapMs, Math.round(gap));
    if (gap > this.#o.hangMs) this.tally.stalls++;
  }
}

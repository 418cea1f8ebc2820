import { encodeControl, type NodeId, nodeIdToBytes, Offset } from '@layer8/protocol';
import { type Connection, type DropCounters, RECEIVER_HIGH_WATER } from './connection.ts';
import { sendControlFrame } from './control-send.ts';
import { NodeIndex } from './node-index.ts';

/** How long a `flow` pause holds at the sending VNet without being renewed, ms (a silent peer cannot hold senders for ever). */
export const FLOW_LEASE_MS = 2000;

/** What flow control needs from its VNet. */
export interface PeerFlowHost {
  readonly id: NodeId;
  readonly drops: DropCounters;
}

/** A local receiver the peers were told to hold frames for: who was told, and when last. */
interface Told {
  readonly peers: Map<Connection, number>;
}

/**
 * A remote node its peer VNet asked to hold frames for: the local senders held meanwhile.
 * Invariant: `timer` fires at the end of the lease; `waiters` are called once, then the pause is gone.
 */
interface Pause {
  readonly id: Uint8Array;
  readonly waiters: (() => void)[];
  timer: NodeJS.Timeout;
}

/**
 * Flow control between peer VNets, per destination node (docs/overlay.md, "Flow control across hosts").
 * A peer link carries everyone's traffic, so it is never paused; instead, when frames from a peer pile
 * up past {@link RECEIVER_HIGH_WATER} on a local receiver's link, that peer is told `flow paused` for the
 * receiver, and `flow resumed` once the link drained. The peer then stops reading the local senders
 * that keep sending to that node (as a slow local receiver does on one host), so a stream across hosts
 * slows down instead of being dropped. A pause lasts {@link FLOW_LEASE_MS} unless renewed (the
 * receiving VNet renews it while frames keep piling up), and is only taken for a node the peer routes.
 *
 * Invariants: `#told` holds the local receivers that are backlogged with frames from peers, each with a
 * drain wait; `#paused` (by node id bytes) and `#pauses` hold exactly the pauses whose lease has not ended.
 */
export class PeerFlow {
  readonly #host: PeerFlowHost;
  readonly #leaseMs: number;
  readonly #told = new Map<Connection, Told>();
  readonly #paused = new NodeIndex<Pause>();
  readonly #pauses = new Set<Pause>();

  readonly #now: () => number;

  /** `now` is the monotonic clock of the renewals, ms (tests give their own). */
  constructor(host: PeerFlowHost, leaseMs = FLOW_LEASE_MS, now: () => number = () => performance.now()) {
    this.#host = host;
    this.#leaseMs = leaseMs;
    this.#now = now;
  }

  /** Pauses now in force at this (sending) VNet. */
  get paused(): number {
    return this.#pauses.size;
  }

  /** Receiving side: a frame from `peer` was queued on local `to`; tells `peer` to hold when `to` is backlogged. */
  delivered(peer: Connection, to: Connection): void {
    if (!to.link.isBacklogged(RECEIVER_HIGH_WATER)) return;
    let told = this.#told.get(to);
    if (told === undefined) {
      told = { peers: new Map() };
      this.#told.set(to, told);
      to.link.onDrained(() => this.#drained(to));
    }
    const now = this.#now();
    const last = told.peers.get(peer);
    if (last !== undefined && now - last < this.#leaseMs / 2) return;
    told.peers.set(peer, now);
    sendControlFrame(peer, encodeControl(this.#host.id, { t: 'flow', node: to.id, paused: true }), this.#host.drops);
  }

  /**
   * Sending side: `peer` asks to hold (or release) frames for `node`. False, and nothing done, when the
   * peer does not route `node` (it may only speak for its own nodes).
   */
  onFlow(peer: Connection, node: NodeId, paused: boolean): boolean {
    const id = nodeIdToBytes(node);
    if (!peer.routed.has(id, 0) || node === peer.id) return false;
    if (!paused) {
      this.#release(id);
      return true;
    }
    const p = this.#paused.get(id, 0);
    if (p !== undefined) {
      clearTimeout(p.timer);
      p.timer = this.#lease(id);
    } else {
      const pause = { id, waiters: [], timer: this.#lease(id) };
      this.#paused.set(id, pause);
      this.#pauses.add(pause);
    }
    return true;
  }

  /** Sending side: `from` (a local VNic) just sent `frame` towards a peer; holds it while its destination is paused. */
  hold(from: Connection, frame: Buffer): void {
    if (this.#pauses.size === 0 || from.isPeer) return;
    const p = this.#paused.get(frame, Offset.DESTINATION);
    if (p !== undefined) from.link.pauseUntil((resume) => p.waiters.push(resume));
  }

  /** Releases every pause and forgets every receiver (the VNet is closing). */
  close(): void {
    this.#told.clear();
    for (const p of [...this.#pauses]) this.#release(p.id);
  }

  #lease(id: Uint8Array): NodeJS.Timeout {
    return setTimeout(() => this.#release(id), this.#leaseMs).unref();
  }

  #drained(to: Connection): void {
    const told = this.#told.get(to);
    this.#told.delete(to);
    if (told === undefined || to.link.closed) return;
    const frame = encodeControl(this.#host.id, { t: 'flow', node: to.id, paused: false });
    for (const peer of told.peers.keys()) if (!peer.link.closed) sendControlFrame(peer, frame, this.#host.drops);
  }

  #release(id: Uint8Array): void {
    const p = this.#paused.get(id, 0);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.#paused.delete(id);
    this.#pauses.delete(p);
    for (const resume of p.waiters) resume();
  }
}

import type { Connection } from './connection.ts';

/** Ring neighbours watched on each side (k successors and k predecessors by node id). */
export const RING_NEIGHBOURS = 2;

/**
 * Which peer links a VNet watches (DESIGN.md §5, at scale): a full mesh of V VNets has V(V-1)/2 links,
 * and heartbeats on all of them would cost the square of the number of hosts per round. Instead, as SWIM
 * and Orleans do, each VNet watches only
 * - its **ring neighbours**: the {@link RING_NEIGHBOURS} next and previous VNets in the order of node
 *   ids (the same order on every VNet, so both ends of a ring link watch it);
 * - links it **sent frames on** during the last deadline (it expects an answer from them);
 * - links under a **probe**: another VNet said a peer has gone quiet (`suspect`), and this VNet asks the
 *   peer itself before it believes it (a member cannot make another drop a live peer by saying so).
 *
 * A watched link carries a `watch` heartbeat every half deadline and is closed when silent for the deadline
 * (a probe: for half of it). The other end answers a `watch` heartbeat when it has sent nothing for
 * half a deadline. Idle links outside these sets carry nothing.
 *
 * Invariants: `#since` holds the watched links of the last round, each with when watching began
 * (`performance.now()`); `#probes` holds the links under a probe with when the probe began;
 * `#sentFrames` holds each peer link's forwarded count at the last round.
 */
export class PeerWatch {
  readonly #since = new Map<Connection, number>();
  readonly #probes = new Map<Connection, number>();
  readonly #activeAt = new WeakMap<Connection, number>();
  readonly #sentFrames = new WeakMap<Connection, number>();
  readonly #askedAt = new WeakMap<Connection, number>();
  readonly #suspected = new WeakSet<Connection>();
  readonly #deadline: number;

  /** `deadlineMs`: the heartbeat deadline; a link stays `active` this long after its last forwarded frame. */
  constructor(deadlineMs: number) {
    this.#deadline = deadlineMs;
  }

  /**
   * Recomputes the watched set from the open peer links (`ownId` is this VNet's id) and returns
   * each watched link with the time its silence is measured from.
   */
  update(ownId: string, peers: readonly Connection[], now: number): Map<Connection, number> {
    const ring = ringOf(ownId, peers, RING_NEIGHBOURS);
    const next = new Map<Connection, number>();
    for (const c of peers) {
      if (this.#active(c, now) || ring.has(c) || this.#probes.has(c)) {
        next.set(c, this.#since.get(c) ?? now);
      }
    }
    this.#since.clear();
    for (const [c, at] of next) this.#since.set(c, at);
    return next;
  }

  /** Records a `watch` heartbeat from the other end: it is answered for one deadline. */
  asked(conn: Connection, now: number): void {
    this.#askedAt.set(conn, now);
  }

  /** Whether the other end asked for heartbeats within the last `deadline` ms. */
  isAsked(conn: Connection, now: number, deadline: number): boolean {
    const at = this.#askedAt.get(conn);
    return at !== undefined && now - at < deadline;
  }

  /** Starts a probe of `conn`; false when it is already watched (its own deadline decides). */
  probe(conn: Connection, now: number): boolean {
    if (this.#since.has(conn) || this.#probes.has(conn)) return false;
    this.#probes.set(conn, now);
    this.#since.set(conn, now);
    return true;
  }

  /** When the probe of `conn` began, if one is under way. */
  probeStart(conn: Connection): number | undefined {
    return this.#probes.get(conn);
  }

  /** Ends the probe of `conn` (answered, or the link closed). */
  endProbe(conn: Connection): void {
    this.#probes.delete(conn);
  }

  /** Marks `conn` as suspected by this VNet; false when it already was (one `suspect` per incident). */
  suspect(conn: Connection): boolean {
    if (this.#suspected.has(conn)) return false;
    this.#suspected.add(conn);
    return true;
  }

  /** Clears the suspicion of `conn` (it was heard from again). */
  cleared(conn: Connection): void {
    this.#suspected.delete(conn);
  }

  /** Forgets everything about every link. */
  clear(): void {
    this.#since.clear();
    this.#probes.clear();
  }

  /** Whether frames were forwarded on `conn` within the last deadline (its count moved in a round that recent). */
  #active(conn: Connection, now: number): boolean {
    if (conn.forwarded !== this.#sentFrames.get(conn)) {
      this.#sentFrames.set(conn, conn.forwarded);
      if (conn.forwarded > 0) this.#activeAt.set(conn, now);
    }
    const at = this.#activeAt.get(conn);
    return at !== undefined && now - at < this.#deadline;
  }
}

/**
 * The ring neighbours of `ownId` among `peers`: the `k` next and `k` previous ids in sorted order,
 * wrapping around (every peer when there are at most 2k of them).
 */
export function ringOf(ownId: string, peers: readonly Connection[], k: number): Set<Connection> {
  if (peers.length <= 2 * k) return new Set(peers);
  const sorted = [...peers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let at = sorted.findIndex((c) => c.id > ownId);
  if (at < 0) at = 0;
  const out = new Set<Connection>();
  for (let i = 0; i < k; i++) {
    out.add(sorted[(at + i) % sorted.length] as Connection);
    out.add(sorted[(at - 1 - i + sorted.length) % sorted.length] as Connection);
  }
  return out;
}

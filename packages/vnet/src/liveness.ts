import { encodeControl, type L8Error, l8error, type NodeId, nodeKey } from '@layer8/protocol';
import type { Connection } from './connection.ts';
import { type ControlHost, type ControlRunner, every } from './control-host.ts';
import { sendControlFrame } from './control-send.ts';
import type { HealthSlice } from './health-slice.ts';
import { type ControlCounters, heartbeatRound, recheckRound } from './link-rounds.ts';
import { PeerWatch } from './peer-watch.ts';

/** Heartbeat timer ticks per deadline: a watched link's heartbeat leaves within an eighth of it of being due. */
export const TICKS_PER_DEADLINE = 8;

/**
 * Liveness (DESIGN.md §5): heartbeat rounds that close links silent for the deadline, re-checks of every
 * link's identity, and what follows when a local VNic's link drops without a goodbye: its record turns
 * `unreachable` at once and is removed one deadline later, unless the node attached again meanwhile.
 * Every local link is watched; peer links as {@link PeerWatch} decides (ring neighbours, links in use,
 * probes), so that the messages of a round grow with the number of nodes, not its square.
 *
 * Invariants: `#removals` holds one timer per local node that is unreachable and not yet removed;
 * `#probeTimers` one timer per peer link under a probe; `#hbAt` when a `watch` heartbeat last went out.
 */
export class Liveness {
  readonly #host: ControlHost;
  readonly #slice: HealthSlice;
  readonly #run: ControlRunner;
  readonly #watch: PeerWatch;
  readonly #removals = new Map<NodeId, NodeJS.Timeout>();
  readonly #probeTimers = new Map<Connection, NodeJS.Timeout>();
  readonly #hbAt = new WeakMap<Connection, number>();
  readonly #frames: Readonly<Record<'hb' | 'watch' | 'probe', Buffer>>;
  #counters: ControlCounters | undefined;
  /** When the last heartbeat round ran (`performance.now()`). */
  #roundAt = performance.now();
  #timers: NodeJS.Timeout[] = [];

  constructor(host: ControlHost, slice: HealthSlice, run: ControlRunner) {
    this.#host = host;
    this.#slice = slice;
    this.#run = run;
    this.#watch = new PeerWatch(host.options.heartbeatMs);
    this.#frames = {
      hb: encodeControl(host.id, { t: 'hb' }),
      watch: encodeControl(host.id, { t: 'hb', watch: true }),
      probe: encodeControl(host.id, { t: 'hb', watch: true, probe: true }),
    };
  }

  /** Starts the heartbeat rounds and the identity re-checks, which hand failures to `refuse`. */
  start(counters: ControlCounters, refuse: (conn: Connection, error: L8Error) => void): void {
    const h = this.#host;
    this.#counters = counters;
    const beat = Math.max(10, Math.floor(h.options.heartbeatMs / TICKS_PER_DEADLINE));
    this.#timers = [
      every(beat, 'heartbeat', this.#run, () => {
        // after a stall of this process, frames that came meanwhile are not read yet: judge next round
        const now = performance.now();
        const stalled = now - this.#roundAt > 2 * beat;
        this.#roundAt = now;
        if (stalled) return;
        heartbeatRound(h, counters);
        this.#peerRound(counters);
      }),
      every(h.options.recheckMs, 'recheck', this.#run, () => recheckRound(h, refuse)),
    ];
  }

  /** Stops every timer (pending removals and probes included). */
  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    for (const t of this.#removals.values()) clearTimeout(t);
    for (const t of this.#probeTimers.values()) clearTimeout(t);
    this.#removals.clear();
    this.#probeTimers.clear();
    this.#watch.clear();
  }

  /** A heartbeat from peer `from`: a `watch` one is answered (a `probe` at once) and asks for heartbeats back. */
  heard(from: Connection, watch: boolean, probe: boolean): void {
    if (!watch) return;
    const now = performance.now();
    this.#watch.asked(from, now);
    if (probe || now - from.link.lastSentAt >= this.#host.options.heartbeatMs / 2) this.#send(from, 'hb');
  }

  /**
   * Peer `from` says `vnet` has gone quiet: this VNet asks `vnet` itself (a probe) and closes its link
   * when no frame arrives within half the deadline. Nothing happens for a link already watched.
   */
  suspected(from: Connection, vnet: NodeId): void {
    const conn = this.#host.peers.get(vnet);
    if (conn === undefined || conn === from || !this.#watch.probe(conn, performance.now())) return;
    this.#send(conn, 'probe');
    const window = Math.max(10, Math.floor(this.#host.options.heartbeatMs / 2));
    const timer = setTimeout(() => this.#run('probe', () => this.#probed(conn)), window).unref();
    this.#probeTimers.set(conn, timer);
  }

  /** Marks a local node whose link dropped `unreachable` and schedules its removal one deadline later. */
  markUnreachable(id: NodeId): void {
    const rec = this.#host.health.get(id);
    if (rec === undefined) return;
    this.#slice.publish([{ ...rec, status: 'unreachable', updatedAt: Date.now() }], []);
    clearTimeout(this.#removals.get(id));
    const timer = setTimeout(() => {
      this.#removals.delete(id);
      this.#run('removal', () => this.#remove(id));
    }, this.#host.options.heartbeatMs).unref();
    this.#removals.set(id, timer);
  }

  /** Cancels the removal of a node that attached again. */
  reattached(id: NodeId): void {
    clearTimeout(this.#removals.get(id));
    this.#removals.delete(id);
  }

  #remove(id: NodeId): void {
    if (!this.#host.locals.has(nodeKey(id))) this.#slice.publish([], [id]);
  }

  /** One round over the peer links: judges the watched ones, sends `watch` heartbeats and answers. */
  #peerRound(counters: ControlCounters): void {
    const h = this.#host;
    const deadline = h.options.heartbeatMs;
    const now = performance.now();
    const peers = [...h.peers.values()];
    const watched = this.#watch.update(h.id, peers, now);
    for (const c of peers) {
      const since = watched.get(c);
      if (since !== undefined && this.#judge(c, since, now, deadline, peers)) continue;
      if (since !== undefined && now - (this.#hbAt.get(c) ?? 0) >= deadline / 2) {
        this.#hbAt.set(c, now);
        this.#send(c, 'watch');
      } else if (this.#watch.isAsked(c, now, deadline) && now - c.link.lastSentAt >= deadline / 2) {
        this.#send(c, 'hb');
      }
    }
    counters.watched = watched.size;
  }

  /** Closes a watched link silent for the deadline (true), or tells the other peers when it is silent for 3/4 of it. */
  #judge(c: Connection, since: number, now: number, deadline: number, peers: readonly Connection[]): boolean {
    const silent = now - Math.max(c.link.lastReceivedAt, since);
    if (silent > deadline) {
      c.link.close(
        l8error('L8_ERR_TIMEOUT', `no frame from ${c.hello.alias} within the ${deadline} ms heartbeat deadline`),
      );
      return true;
    }
    if (silent <= deadline / 2) this.#watch.cleared(c);
    else if (silent > (3 * deadline) / 4 && this.#watch.suspect(c)) this.#tellSuspect(c, peers);
    return false;
  }

  /** Sends every other peer a `suspect` for `c`, so that they probe it instead of waiting for their own deadline. */
  #tellSuspect(c: Connection, peers: readonly Connection[]): void {
    const frame = encodeControl(this.#host.id, { t: 'suspect', vnet: c.id });
    for (const p of peers) if (p !== c) sendControlFrame(p, frame, this.#host.drops);
    if (this.#counters !== undefined) this.#counters.suspectsSent++;
  }

  /** The end of a probe: the link is closed when nothing came from it since the probe began. */
  #probed(conn: Connection): void {
    const start = this.#watch.probeStart(conn);
    this.#watch.endProbe(conn);
    this.#probeTimers.delete(conn);
    if (start === undefined || conn.link.closed || conn.link.lastReceivedAt >= start) return;
    conn.link.close(
      l8error('L8_ERR_TIMEOUT', `no answer from ${conn.hello.alias} to a probe after a peer suspected it`),
    );
  }

  #send(c: Connection, kind: 'hb' | 'watch' | 'probe'): void {
    sendControlFrame(c, this.#frames[kind], this.#host.drops);
    if (this.#counters !== undefined) this.#counters.heartbeatsSent++;
  }
}

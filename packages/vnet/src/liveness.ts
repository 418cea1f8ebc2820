import { type L8Error, type NodeId, nodeKey } from '@layer8/protocol';
import type { Connection } from './connection.ts';
import { type ControlHost, type ControlRunner, every } from './control-host.ts';
import type { HealthSlice } from './health-slice.ts';
import { type ControlCounters, heartbeatRound, recheckRound } from './link-rounds.ts';

/**
 * Liveness (DESIGN.md §5): heartbeat rounds that close links silent for the deadline, re-checks of every
 * link's identity, and what follows when a local VNic's link drops without a goodbye: its record turns
 * `unreachable` at once and is removed one deadline later, unless the node attached again meanwhile.
 *
 * Invariant: `#removals` holds one timer per local node that is unreachable and not yet removed.
 */
export class Liveness {
  readonly #host: ControlHost;
  readonly #slice: HealthSlice;
  readonly #run: ControlRunner;
  readonly #removals = new Map<NodeId, NodeJS.Timeout>();
  #timers: NodeJS.Timeout[] = [];

  constructor(host: ControlHost, slice: HealthSlice, run: ControlRunner) {
    this.#host = host;
    this.#slice = slice;
    this.#run = run;
  }

  /** Starts the heartbeat rounds (four per deadline) and the identity re-checks, which hand failures to `refuse`. */
  start(counters: ControlCounters, refuse: (conn: Connection, error: L8Error) => void): void {
    const h = this.#host;
    const beat = Math.max(10, Math.floor(h.options.heartbeatMs / 4));
    this.#timers = [
      every(beat, 'heartbeat', this.#run, () => heartbeatRound(h, counters)),
      every(h.options.recheckMs, 'recheck', this.#run, () => recheckRound(h, refuse)),
    ];
  }

  /** Stops every timer (pending removals included). */
  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    for (const t of this.#removals.values()) clearTimeout(t);
    this.#removals.clear();
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
}

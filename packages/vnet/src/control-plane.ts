import { type LocalControl, type PeerControl, parseLocalControl, parsePeerControl } from '@layer8/health';
import { type ControlBody, controlBody, decodeMessage, encodeControl, type L8Error, l8error } from '@layer8/protocol';
import type { Connection } from './connection.ts';
import { type ControlHost, every } from './control-host.ts';
import { HealthSlice } from './health-slice.ts';
import { Introductions } from './introductions.ts';
import { LinkMembership } from './link-membership.ts';
import type { ControlCounters } from './link-rounds.ts';
import { Liveness } from './liveness.ts';

/**
 * The VNet's control plane: ties together link membership (attach, detach), the health slice it writes
 * and the deltas it sends and receives, liveness (heartbeats with deadlines, DESIGN.md §5), and the
 * derived route and service tables; and handles CONTROL frames from local VNics and peer VNets.
 *
 * A step (an attach, a detach, a control message, a timer) that changed membership (a link up or down, a
 * node added or removed, a status or the services of a node changed) marks the route tables stale; they
 * are rebuilt once, before the next data frame is routed or at the end of the turn of the event loop,
 * whichever comes first. A storm of joins (every node of a large overlay attaching at once) thus costs
 * one rebuild per batch of control frames read, not one per join: O(nodes) per batch, not O(nodes²).
 * Stats alone never mark them. Invariant: `#scheduled` is true exactly while an end-of-turn rebuild is
 * pending; the tables are stale only while it is.
 */
export class ControlPlane {
  readonly counters: ControlCounters = {
    heartbeatsSent: 0,
    healthSent: 0,
    suspectsSent: 0,
    watched: 0,
    rounds: 0,
    rebuilds: 0,
  };
  /** The same-host short cut: introductions of local VNics to each other. */
  readonly introductions: Introductions;
  readonly #host: ControlHost;
  readonly #slice: HealthSlice;
  readonly #liveness: Liveness;
  readonly #links: LinkMembership;
  #scheduled = false;
  #statsTimer: NodeJS.Timeout | undefined;

  constructor(host: ControlHost) {
    this.#host = host;
    this.introductions = new Introductions(host);
    const onChange = (): void => {
      host.tables.stale = true;
    };
    this.#slice = new HealthSlice(host, this.counters, onChange);
    this.#liveness = new Liveness(host, this.#slice, (what, step) => this.#guarded(what, step));
    const refuse = (conn: Connection, error: L8Error): void => this.refuse(conn, error);
    this.#links = new LinkMembership(host, { slice: this.#slice, liveness: this.#liveness, refuse, onChange });
  }

  /** Writes the VNet's own record and starts the heartbeat, re-check and stats timers. */
  start(): void {
    this.#slice.start();
    this.#liveness.start(this.counters, (c, e) => this.refuse(c, e));
    const run = (what: string, step: () => void): void => this.#guarded(what, step);
    this.#statsTimer = every(this.#host.options.statsMs, 'stats', run, () => this.#slice.statsRound());
  }

  /** Stops timers. */
  stop(): void {
    clearInterval(this.#statsTimer);
    this.#liveness.stop();
    this.#slice.stop();
  }

  /** Registers a new connection; false when it was refused or lost a duplicate tie-break, and was closed. */
  attached(conn: Connection): boolean {
    return this.#step(() => this.#links.attached(conn));
  }

  /** Forgets a closed connection; `error` is why it closed, when by a fault. */
  detached(conn: Connection, error?: L8Error): void {
    this.introductions.forget(conn);
    this.#guarded('detach', () => this.#links.detached(conn, error));
  }

  /**
   * Closes a link for a security or protocol reason, telling the other end why first (a `close`
   * control message, so a refused VNic stops retrying), counting and logging it.
   */
  refuse(conn: Connection, error: L8Error): void {
    const h = this.#host;
    if (error.code !== 'L8_ERR_MALFORMED_FRAME') h.admission.count(error);
    h.log.warn({ node: conn.id, subject: conn.subject, code: error.code, err: error.message }, 'link refused');
    conn.link.trySend(encodeControl(h.id, { t: 'close', error: error.toWire() }));
    conn.link.close();
  }

  /** Handles a CONTROL frame from a connection. Never throws: a bad one is counted and dropped. */
  onControl(from: Connection, frame: Buffer): void {
    let body: ControlBody | undefined;
    try {
      body = controlBody(decodeMessage(frame));
    } catch {
      body = undefined;
    }
    const peer = from.isPeer ? parsePeerControl(body) : undefined;
    const local = from.isPeer ? undefined : parseLocalControl(body);
    if (peer === undefined && local === undefined) {
      this.#host.drops.malformed++;
      this.refuse(from, l8error('L8_ERR_MALFORMED_FRAME', `malformed control message ${String(body?.t ?? '')}`));
      return;
    }
    this.#guarded('control', () =>
      peer ? this.#peerControl(from, peer) : this.#localControl(from, local as LocalControl),
    );
  }

  #peerControl(from: Connection, body: PeerControl): void {
    if (body.t === 'health') {
      if (body.delta.vnet === from.id) this.#slice.applyPeerDelta(from, body.delta);
      else this.refuse(from, l8error('L8_ERR_IDENTITY', `peer ${from.id} sent a delta of ${body.delta.vnet}'s slice`));
    } else if (body.t === 'flow') {
      this.refreshRoutes();
      if (!this.#host.flow.onFlow(from, body.node, body.paused)) this.#host.drops.flowSpoofed++;
    } else if (body.t === 'hb') this.#liveness.heard(from, body.watch === true, body.probe === true);
    else if (body.t === 'suspect') this.#liveness.suspected(from, body.vnet);
    else if (body.t === 'watch') this.#slice.peerWatch(from, body.stats);
    else if (body.t === 'resync') this.#slice.sendOwnSlice(from);
    else if (body.t === 'close') this.#host.log.warn({ peer: from.id, ...body.error }, 'peer VNet is closing the link');
  }

  #localControl(from: Connection, body: LocalControl): void {
    const h = this.#host;
    const rec = h.health.get(from.id);
    if (rec === undefined || rec.vnet !== h.id) return;
    if (body.t === 'services') {
      const refused = h.admission.servicesError(from.opened.peer, body.services);
      if (refused !== undefined) return this.refuse(from, refused);
      this.#slice.publish([{ ...rec, services: body.services, updatedAt: Date.now() }], []);
    } else if (body.t === 'stats') this.#slice.localStats(rec, body.stats);
    else if (body.t === 'watch') this.#slice.localWatch(from, body.stats);
    else if (body.t === 'direct') this.introductions.announce(from, body.path);
    else if (body.t === 'introduce') this.introductions.introduce(from, body.node);
    else if (body.t === 'resync') this.#slice.sendDump(from);
    else if (body.t === 'bye') from.leaving = true;
  }

  /** Runs a step; a fault is logged (`in: what`), never thrown. */
  #guarded(what: string, step: () => void): void {
    try {
      this.#step(step);
    } catch (err) {
      this.#host.log.warn({ err: String(err), in: what }, 'control plane fault (ignored)');
    }
  }

  /** Rebuilds the route tables now when a membership change left them stale (the router calls it). */
  refreshRoutes(): void {
    if (this.#host.tables.stale) this.#rebuild();
  }

  /** Runs a step, then has the route tables rebuilt if it changed membership (also when it threw). */
  #step<T>(step: () => T): T {
    try {
      return step();
    } finally {
      if (this.#host.tables.stale && !this.#scheduled) this.#schedule();
    }
  }

  #schedule(): void {
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.refreshRoutes();
    });
  }

  #rebuild(): void {
    const h = this.#host;
    h.tables.stale = false;
    this.counters.rebuilds++;
    h.tables.rebuild(h.health, h.locals, h.peers);
  }
}

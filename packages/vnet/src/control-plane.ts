import { type HealthDelta, type HealthRecord, type NodeStats, parseDelta, StatsSampler } from '@layer8/health';
import {
  type ControlBody,
  controlBody,
  decodeMessage,
  encodeControl,
  l8error,
  nodeIdToBytes,
  nodeKey,
} from '@layer8/protocol';
import type { Connection } from './connection.ts';
import type { VNet } from './vnet.ts';

/** Counters of control traffic, read by tests that bound the cost of a heartbeat round. */
export interface ControlCounters {
  heartbeatsSent: number;
  healthSent: number;
  rounds: number;
}

/**
 * The VNet's control plane: link attach and detach, the health slice it writes, deltas to peers and
 * local VNics, heartbeats with deadlines (DESIGN.md §5), and the derived route and service tables.
 *
 * Invariants: `#seq` is the sequence of the last delta this VNet wrote; `#dirty` holds node ids whose
 * stats changed since the last stats round; `#removals` holds a timer per unreachable local node;
 * `#localQueue` holds deltas not yet sent to local VNics, in the order they were applied.
 */
export class ControlPlane {
  readonly counters: ControlCounters = { heartbeatsSent: 0, healthSent: 0, rounds: 0 };
  readonly #vnet: VNet;
  readonly #sampler = new StatsSampler();
  readonly #startedAt = Date.now();
  readonly #dirty = new Set<string>();
  readonly #removals = new Map<string, NodeJS.Timeout>();
  #seq = 0;
  #localQueue: HealthDelta[] = [];
  #timers: NodeJS.Timeout[] = [];

  constructor(vnet: VNet) {
    this.#vnet = vnet;
  }

  /** Writes the VNet's own record and starts the heartbeat and stats timers. */
  start(): void {
    const v = this.#vnet;
    v.health.upsert(this.#record(v.id, v.alias, 'vnet', [], this.#startedAt));
    this.#timers = [
      setInterval(() => this.#heartbeatRound(), Math.max(10, Math.floor(v.options.heartbeatMs / 4))).unref(),
      setInterval(() => this.#statsRound(), v.options.statsMs).unref(),
    ];
  }

  /** Stops timers. */
  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    for (const t of this.#removals.values()) clearTimeout(t);
    this.#sampler.close();
  }

  /** Registers a new connection; false when it lost a duplicate tie-break and was closed. */
  attached(conn: Connection): boolean {
    return conn.isPeer ? this.#attachPeer(conn) : this.#attachLocal(conn);
  }

  /** Forgets a closed connection. */
  detached(conn: Connection): void {
    const v = this.#vnet;
    if (conn.isPeer) {
      if (v.peers.get(conn.id) !== conn) return;
      v.peers.delete(conn.id);
      v.health.dropSlice(conn.id);
      this.#localQueue = this.#localQueue.filter((d) => d.vnet !== conn.id);
      this.#toLocals({ t: 'drop', vnet: conn.id });
    } else {
      if (v.locals.get(conn.key) !== conn) return;
      v.locals.delete(conn.key);
      this.#markUnreachable(conn.id);
    }
    this.rebuild();
  }

  /** Handles a CONTROL frame from a connection. Never throws: a bad one is counted and dropped. */
  onControl(from: Connection, frame: Buffer): void {
    let body: ControlBody;
    try {
      body = controlBody(decodeMessage(frame));
    } catch {
      this.#vnet.drops.malformed++;
      return;
    }
    if (from.isPeer) this.#peerControl(from, body);
    else this.#localControl(from, body);
  }

  /** Recomputes the route and service tables from the health table. */
  rebuild(): void {
    const v = this.#vnet;
    v.routes.clear();
    v.localIndex.clear();
    for (const local of v.locals.values()) v.localIndex.set(local.idBytes, local);
    for (const peer of v.peers.values()) {
      peer.routed.clear();
      peer.routed.set(peer.idBytes, true);
    }
    for (const r of v.health.all()) {
      const peer = v.peers.get(r.vnet);
      if (peer === undefined) continue;
      const bytes = nodeIdToBytes(r.id);
      peer.routed.set(bytes, true);
      if (!v.locals.has(nodeKey(r.id))) v.routes.set(bytes, peer);
    }
    const localsById = new Map([...v.locals.values()].map((c) => [c.id, c]));
    v.services.rebuild(v.health, localsById, v.peers);
  }

  #attachLocal(conn: Connection): boolean {
    const v = this.#vnet;
    v.locals.get(conn.key)?.link.close(l8error('L8_ERR_CONNECT', 'replaced by a new link of the same node'));
    v.locals.set(conn.key, conn);
    clearTimeout(this.#removals.get(conn.id));
    this.#removals.delete(conn.id);
    const old = v.health.get(conn.id);
    const rec = this.#record(conn.id, conn.hello.alias, 'vnic', conn.hello.services, old?.startedAt ?? Date.now());
    this.#sendDump(conn);
    this.#publish([rec], []);
    return true;
  }

  #attachPeer(conn: Connection): boolean {
    const v = this.#vnet;
    const existing = v.peers.get(conn.id);
    if (existing !== undefined && !existing.link.closed) {
      const keepNew = (conn.dialled ? v.id : conn.id) < (existing.dialled ? v.id : existing.id);
      const loser = keepNew ? existing : conn;
      if (!keepNew) {
        loser.link.close();
        return false;
      }
      v.peers.set(conn.id, conn);
      loser.link.close();
    }
    v.peers.set(conn.id, conn);
    this.#send(conn, { t: 'health', delta: this.#fullSlice() });
    this.rebuild();
    return true;
  }

  #peerControl(from: Connection, body: ControlBody): void {
    if (body.t === 'health') this.#peerDelta(from, parseDelta(body.delta));
    else if (body.t === 'resync') this.#send(from, { t: 'health', delta: this.#fullSlice() });
  }

  #peerDelta(from: Connection, delta: HealthDelta | undefined): void {
    if (delta === undefined || delta.vnet !== from.id) {
      this.#vnet.drops.malformed++;
      return;
    }
    if (!this.#vnet.health.applyDelta(delta)) {
      this.#send(from, { t: 'resync' });
      return;
    }
    this.#localQueue.push(delta);
    if (!delta.stats) this.#flushLocals();
    this.rebuild();
  }

  #localControl(from: Connection, body: ControlBody): void {
    const rec = this.#vnet.health.get(from.id);
    if (rec === undefined) return;
    if (body.t === 'services' && Array.isArray(body.services)) {
      this.#publish([{ ...rec, services: body.services as HealthRecord['services'], updatedAt: Date.now() }], []);
    } else if (body.t === 'stats' && typeof body.stats === 'object' && body.stats !== null) {
      this.#vnet.health.upsert({ ...rec, stats: body.stats as NodeStats });
      this.#dirty.add(from.id);
    } else if (body.t === 'resync') {
      this.#sendDump(from);
    }
  }

  #markUnreachable(id: string): void {
    const rec = this.#vnet.health.get(id);
    if (rec === undefined) return;
    this.#publish([{ ...rec, status: 'unreachable', updatedAt: Date.now() }], []);
    const timer = setTimeout(() => {
      this.#removals.delete(id);
      if (!this.#vnet.locals.has(nodeKey(id))) this.#publish([], [id]);
    }, this.#vnet.options.heartbeatMs).unref();
    this.#removals.set(id, timer);
  }

  /** Writes records of this VNet's slice and sends the delta to every peer and local VNic. */
  #publish(upsert: HealthRecord[], remove: string[], stats = false): void {
    const health = this.#vnet.health;
    for (const r of upsert) health.upsert(r);
    for (const id of remove) health.remove(id);
    const delta: HealthDelta = { vnet: this.#vnet.id, seq: ++this.#seq, full: false, upsert, remove, stats };
    health.applyDelta({ ...delta, full: true, upsert: health.sliceOf(this.#vnet.id), remove: [] });
    const frame = encodeControl(this.#vnet.id, { t: 'health', delta });
    for (const c of this.#vnet.peers.values()) this.#sendFrame(c, frame);
    this.counters.healthSent += this.#vnet.peers.size;
    this.#localQueue.push(delta);
    this.#flushLocals();
    this.rebuild();
  }

  /** Sends the queued deltas (peers' stats deltas wait here for the next round) to every local VNic. */
  #flushLocals(): void {
    if (this.#localQueue.length === 0) return;
    const frame = encodeControl(this.#vnet.id, { t: 'health', deltas: this.#localQueue });
    this.#localQueue = [];
    for (const c of this.#vnet.locals.values()) this.#sendFrame(c, frame);
    this.counters.healthSent += this.#vnet.locals.size;
  }

  #fullSlice(): HealthDelta {
    return {
      vnet: this.#vnet.id,
      seq: this.#seq,
      full: true,
      upsert: this.#vnet.health.sliceOf(this.#vnet.id),
      remove: [],
    };
  }

  /** Sends a new local VNic every writer's slice. */
  #sendDump(conn: Connection): void {
    this.#flushLocals();
    const health = this.#vnet.health;
    const deltas = health.writers().map((vnet) => {
      const seq = vnet === this.#vnet.id ? this.#seq : (health.seqOf(vnet) ?? 0);
      return { vnet, seq, full: true, upsert: health.sliceOf(vnet), remove: [] };
    });
    this.#send(conn, { t: 'health', deltas });
  }

  #heartbeatRound(): void {
    const now = performance.now();
    const deadline = this.#vnet.options.heartbeatMs;
    const hb = encodeControl(this.#vnet.id, { t: 'hb' });
    this.counters.rounds++;
    for (const c of [...this.#vnet.locals.values(), ...this.#vnet.peers.values()]) {
      if (now - c.link.lastReceivedAt > deadline) {
        c.link.close(
          l8error('L8_ERR_TIMEOUT', `no frame from ${c.hello.alias} within the ${deadline} ms heartbeat deadline`),
        );
      } else if (now - c.link.lastSentAt >= deadline / 2) {
        this.#sendFrame(c, hb);
        this.counters.heartbeatsSent++;
      }
    }
  }

  #statsRound(): void {
    const v = this.#vnet;
    const own = v.health.get(v.id);
    if (own === undefined) return;
    const traffic = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };
    for (const c of [...v.locals.values(), ...v.peers.values()]) {
      traffic.framesIn += c.link.stats.framesIn;
      traffic.framesOut += c.link.stats.framesOut;
      traffic.bytesIn += c.link.stats.bytesIn;
      traffic.bytesOut += c.link.stats.bytesOut;
    }
    const changed: HealthRecord[] = [{ ...own, stats: this.#sampler.sample(traffic), updatedAt: Date.now() }];
    for (const id of this.#dirty) {
      const r = v.health.get(id);
      if (r !== undefined) changed.push(r);
    }
    this.#dirty.clear();
    this.#publish(changed, [], true);
  }

  #record(
    id: string,
    alias: string,
    role: 'vnic' | 'vnet',
    services: HealthRecord['services'],
    startedAt: number,
  ): HealthRecord {
    return { id, vnet: this.#vnet.id, alias, role, services, status: 'up', startedAt, updatedAt: Date.now() };
  }

  #toLocals(body: ControlBody): void {
    const frame = encodeControl(this.#vnet.id, body);
    for (const c of this.#vnet.locals.values()) this.#sendFrame(c, frame);
  }

  #send(conn: Connection, body: ControlBody): void {
    this.#sendFrame(conn, encodeControl(this.#vnet.id, body));
  }

  #sendFrame(conn: Connection, frame: Buffer): void {
    try {
      conn.link.send(frame);
    } catch {
      this.#vnet.drops.backpressure++;
    }
  }
}

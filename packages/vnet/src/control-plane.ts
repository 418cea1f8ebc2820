import {
  type HealthDelta,
  type HealthRecord,
  type LocalControl,
  type PeerControl,
  parseLocalControl,
  parsePeerControl,
  StatsSampler,
} from '@layer8/health';
import {
  type ControlBody,
  controlBody,
  decodeMessage,
  encodeControl,
  type L8Error,
  l8error,
  nodeIdToBytes,
  nodeKey,
} from '@layer8/protocol';
import type { Connection } from './connection.ts';
import { type ControlCounters, heartbeatRound, recheckRound, trafficOf } from './link-rounds.ts';
import { chunkBy, HEALTH_FRAME_BYTES, holdForDump, jsonBytes, type SliceSnapshot, sendDump } from './state-dump.ts';
import type { VNet } from './vnet.ts';

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
    v.health.upsert(this.#record(v.id, v.alias, 'vnet', [], this.#startedAt, undefined));
    this.#timers = [
      this.#every(Math.max(10, Math.floor(v.options.heartbeatMs / 4)), () => heartbeatRound(v, this.counters)),
      this.#every(v.options.statsMs, () => this.#statsRound()),
      this.#every(v.options.recheckMs, () => recheckRound(v, (c, e) => this.refuse(c, e))),
    ];
  }

  /** A timer whose faults are logged, never thrown out of the event loop. */
  #every(ms: number, round: () => void): NodeJS.Timeout {
    return setInterval(() => this.#guarded('timer', round), ms).unref();
  }

  #guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#vnet.log.warn({ err: String(err), in: what }, 'control plane fault (ignored)');
    }
  }

  /** Stops timers. */
  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    for (const t of this.#removals.values()) clearTimeout(t);
    this.#sampler.close();
  }

  /** Registers a new connection; false when it lost a duplicate tie-break and was closed. */
  attached(conn: Connection): boolean {
    if (conn.dialled) {
      try {
        this.#vnet.admission.check(conn.hello, conn.opened.peer);
      } catch (err) {
        this.refuse(conn, err as L8Error);
        return false;
      }
    }
    return conn.isPeer ? this.#attachPeer(conn) : this.#attachLocal(conn);
  }

  /**
   * Closes a link for a security or protocol reason, telling the other end why first (a `close`
   * control message, so a refused VNic stops retrying), counting and logging it.
   */
  refuse(conn: Connection, error: L8Error): void {
    if (error.code !== 'L8_ERR_MALFORMED_FRAME') this.#vnet.admission.count(error);
    this.#vnet.log.warn({ node: conn.id, subject: conn.subject, code: error.code, err: error.message }, 'link refused');
    conn.link.trySend(encodeControl(this.#vnet.id, { t: 'close', error: error.toWire() }));
    conn.link.close();
  }

  /** Forgets a closed connection. */
  detached(conn: Connection): void {
    this.#guarded('detach', () => this.#detach(conn));
  }

  #detach(conn: Connection): void {
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
      if (conn.leaving) this.#publish([], [conn.id]);
      else this.#markUnreachable(conn.id);
    }
    this.rebuild();
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
      this.#vnet.drops.malformed++;
      this.refuse(from, l8error('L8_ERR_MALFORMED_FRAME', `malformed control message ${String(body?.t ?? '')}`));
      return;
    }
    this.#guarded('control', () =>
      peer ? this.#peerControl(from, peer) : this.#localControl(from, local as LocalControl),
    );
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
    // queued deltas predate this node's dump: send them to the others first, not to it
    this.#flushLocals();
    v.locals.set(conn.key, conn);
    clearTimeout(this.#removals.get(conn.id));
    this.#removals.delete(conn.id);
    const old = v.health.get(conn.id);
    const started = old?.startedAt ?? Date.now();
    const rec = this.#record(conn.id, conn.hello.alias, 'vnic', conn.hello.services, started, conn.subject);
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
    this.#sendOwnSlice(conn);
    this.rebuild();
    return true;
  }

  /** Sends a peer this VNet's whole slice, in chunks that respect its queue. */
  #sendOwnSlice(conn: Connection): void {
    const v = this.#vnet;
    const snapshot = (): SliceSnapshot[] => [{ vnet: v.id, seq: this.#seq, records: v.health.sliceOf(v.id) }];
    void sendDump(conn, v.id, snapshot, (delta) => ({ t: 'health', delta }));
  }

  #peerControl(from: Connection, body: PeerControl): void {
    if (body.t === 'health') this.#peerDelta(from, body.delta);
    else if (body.t === 'resync') this.#sendOwnSlice(from);
    else if (body.t === 'close') this.#vnet.log.warn({ peer: from.id, ...body.error }, 'peer VNet is closing the link');
  }

  #peerDelta(from: Connection, delta: HealthDelta): void {
    if (delta.vnet !== from.id) {
      this.refuse(from, l8error('L8_ERR_IDENTITY', `peer ${from.id} sent a delta of ${delta.vnet}'s slice`));
      return;
    }
    const applied = this.#vnet.health.applyDelta(delta, this.#vnet.admission.guardFor(from));
    if (applied === undefined) {
      this.#send(from, { t: 'resync' });
      return;
    }
    // a big delta from a peer goes on in parts (same sequence) that fit every VNic's frame maximum
    for (const [i, upsert] of chunkBy(applied.upsert, jsonBytes, HEALTH_FRAME_BYTES).entries()) {
      this.#localQueue.push(i === 0 ? { ...applied, upsert } : { ...applied, upsert, remove: [], part: true });
    }
    if (!delta.stats) this.#flushLocals();
    this.rebuild();
  }

  #localControl(from: Connection, body: LocalControl): void {
    const rec = this.#vnet.health.get(from.id);
    if (rec === undefined || rec.vnet !== this.#vnet.id) return;
    if (body.t === 'services') {
      const refused = this.#vnet.admission.servicesError(from.opened.peer, body.services);
      if (refused !== undefined) return this.refuse(from, refused);
      this.#publish([{ ...rec, services: body.services, updatedAt: Date.now() }], []);
    } else if (body.t === 'stats') {
      this.#vnet.health.upsert({ ...rec, stats: body.stats });
      this.#dirty.add(from.id);
    } else if (body.t === 'resync') {
      this.#sendDump(from);
    } else if (body.t === 'bye') {
      from.leaving = true;
    }
  }

  #markUnreachable(id: string): void {
    const rec = this.#vnet.health.get(id);
    if (rec === undefined) return;
    this.#publish([{ ...rec, status: 'unreachable', updatedAt: Date.now() }], []);
    const timer = setTimeout(() => {
      this.#removals.delete(id);
      this.#guarded('removal', () => {
        if (!this.#vnet.locals.has(nodeKey(id))) this.#publish([], [id]);
      });
    }, this.#vnet.options.heartbeatMs).unref();
    this.#removals.set(id, timer);
  }

  /**
   * Writes records of this VNet's slice and sends the change to every peer and local VNic, as one delta
   * per chunk of about {@link HEALTH_FRAME_BYTES} (each with its own sequence).
   */
  #publish(upsert: HealthRecord[], remove: string[], stats = false): void {
    const parts = chunkBy(upsert, jsonBytes, HEALTH_FRAME_BYTES);
    for (const [i, part] of parts.entries()) this.#publishOne(part, i === 0 ? remove : [], stats);
    this.#flushLocals();
    this.rebuild();
  }

  #publishOne(upsert: HealthRecord[], remove: string[], stats: boolean): void {
    const health = this.#vnet.health;
    for (const r of upsert) health.upsert(r);
    for (const id of remove) health.remove(id);
    const delta: HealthDelta = { vnet: this.#vnet.id, seq: ++this.#seq, full: false, upsert, remove, stats };
    health.applyDelta({ ...delta, full: true, upsert: health.sliceOf(this.#vnet.id), remove: [] });
    const frame = encodeControl(this.#vnet.id, { t: 'health', delta });
    for (const c of this.#vnet.peers.values()) if (!this.#hold(c, frame)) this.#sendFrame(c, frame);
    this.counters.healthSent += this.#vnet.peers.size;
    this.#localQueue.push(delta);
  }

  /** Sends the queued deltas (peers' stats deltas wait here for the next round) to every local VNic. */
  #flushLocals(): void {
    if (this.#localQueue.length === 0) return;
    const runs = chunkBy(this.#localQueue, jsonBytes, HEALTH_FRAME_BYTES);
    this.#localQueue = [];
    for (const deltas of runs) {
      const frame = encodeControl(this.#vnet.id, { t: 'health', deltas });
      for (const c of this.#vnet.locals.values()) if (!this.#hold(c, frame)) this.#sendFrame(c, frame);
      this.counters.healthSent += this.#vnet.locals.size;
    }
  }

  /** Sends a local VNic every writer's slice, in chunks that respect its queue. */
  #sendDump(conn: Connection): void {
    const v = this.#vnet;
    const snapshot = (): SliceSnapshot[] =>
      v.health.writers().map((vnet) => ({
        vnet,
        seq: vnet === v.id ? this.#seq : (v.health.seqOf(vnet) ?? 0),
        records: v.health.sliceOf(vnet),
      }));
    void sendDump(conn, v.id, snapshot, (d) => ({ t: 'health', deltas: [d] }));
  }

  #statsRound(): void {
    const v = this.#vnet;
    const own = v.health.get(v.id);
    if (own === undefined) return;
    const changed: HealthRecord[] = [{ ...own, stats: this.#sampler.sample(trafficOf(v)), updatedAt: Date.now() }];
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
    subject: string | undefined,
  ): HealthRecord {
    const r: HealthRecord = {
      id,
      vnet: this.#vnet.id,
      alias,
      role,
      services,
      status: 'up',
      startedAt,
      updatedAt: Date.now(),
    };
    return subject === undefined ? r : { ...r, subject };
  }

  #hold(conn: Connection, frame: Buffer): boolean {
    return holdForDump(conn, frame, this.#vnet.options.maxQueuedBytes);
  }

  #toLocals(body: ControlBody): void {
    const frame = encodeControl(this.#vnet.id, body);
    for (const c of this.#vnet.locals.values()) if (!this.#hold(c, frame)) this.#sendFrame(c, frame);
  }

  #send(conn: Connection, body: ControlBody): void {
    this.#sendFrame(conn, encodeControl(this.#vnet.id, body));
  }

  #sendFrame(conn: Connection, frame: Buffer): void {
    if (frame.length - 4 > conn.maxFrame) {
      this.#vnet.drops.overMaxFrame++;
      return;
    }
    try {
      conn.link.send(frame);
    } catch {
      this.#vnet.drops.backpressure++;
    }
  }
}

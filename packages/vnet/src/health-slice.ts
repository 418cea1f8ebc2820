import { type HealthDelta, type HealthRecord, type NodeStats, StatsSampler } from '@layer8/health';
import { type ControlBody, encodeControl, type NodeId } from '@layer8/protocol';
import type { Connection } from './connection.ts';
import type { ControlHost } from './control-host.ts';
import { broadcastHealth, sendControlFrame } from './control-send.ts';
import { type ControlCounters, trafficOf } from './link-rounds.ts';
import { deltaChangesRouting } from './route-tables.ts';
import { chunkBy, HEALTH_FRAME_BYTES, jsonBytes, type SliceSnapshot, sendDump } from './state-dump.ts';

/**
 * The slice of the health table this VNet writes (its own record and its VNics'), and the deltas it
 * sends: to every peer at once, and to local VNics in order through a queue (DESIGN.md §5). Peers'
 * deltas are applied here too and passed on to local VNics; peers' stats deltas wait in the queue for
 * the next stats round, so a VNic gets one message per round for all of them.
 *
 * Calls `onRouting` whenever a delta it applied changes what the route tables are built from (see
 * `changesRouting`); a stats-only delta never does.
 *
 * Load figures (`stats` deltas) go only where they are wanted: to local VNics that sent `watch` and to
 * peer VNets that said they have such VNics, so that a large overlay where nobody looks at load pays
 * nothing for it. A `stats` delta does not advance the writer's sequence (a receiver that skips them sees
 * no gap) and only updates records the receiver already has.
 *
 * Invariants: `#seq` is the sequence of the last membership delta this VNet wrote; `#dirty` holds ids of
 * local nodes whose stats changed since the last stats round; `#localQueue` holds deltas not yet sent to
 * local VNics, in the order they were applied; `#toldWatching` is what peers were last told about this
 * VNet's local stats watchers.
 */
export class HealthSlice {
  readonly #host: ControlHost;
  readonly #counters: ControlCounters;
  readonly #onRouting: () => void;
  readonly #sampler = new StatsSampler();
  readonly #startedAt = Date.now();
  readonly #dirty = new Set<NodeId>();
  #seq = 0;
  #localQueue: HealthDelta[] = [];
  #toldWatching = false;

  constructor(host: ControlHost, counters: ControlCounters, onRouting: () => void) {
    this.#host = host;
    this.#counters = counters;
    this.#onRouting = onRouting;
  }

  /** Writes the VNet's own record. */
  start(): void {
    const h = this.#host;
    h.health.upsert(this.#record(h.id, h.alias, 'vnet', [], this.#startedAt, undefined));
  }

  /** Stops the load sampler. */
  stop(): void {
    this.#sampler.close();
  }

  /** Sends a newly attached VNic the whole table, then publishes its record (`up`, keeping its start time). */
  addLocal(conn: Connection): void {
    const started = this.#host.health.get(conn.id)?.startedAt ?? Date.now();
    const rec = this.#record(conn.id, conn.hello.alias, 'vnic', conn.hello.services, started, conn.subject);
    this.sendDump(conn);
    this.publish([rec], []);
  }

  /** Forgets a peer's slice at once and tells local VNics (`drop`). */
  dropPeer(vnet: NodeId): void {
    this.#host.health.dropSlice(vnet);
    this.#localQueue = this.#localQueue.filter((d) => d.vnet !== vnet);
    const frame = encodeControl(this.#host.id, { t: 'drop', vnet });
    broadcastHealth(this.#host.locals.values(), frame, this.#host.drops, this.#host.options.maxQueuedBytes);
  }

  /** Records a local VNic's load figures; they go out with the next stats round. */
  localStats(rec: HealthRecord, stats: NodeStats): void {
    this.#host.health.upsert({ ...rec, stats });
    this.#dirty.add(rec.id);
  }

  /** A local VNic asks for load figures (or no longer); peers are told when the first asks or the last stops. */
  localWatch(conn: Connection, stats: boolean): void {
    conn.wantsStats = stats;
    this.#syncWatch();
  }

  /** A peer VNet says whether it has local VNics that want load figures; when it starts, it gets the current ones. */
  peerWatch(conn: Connection, stats: boolean): void {
    const starts = stats && !conn.wantsStats;
    conn.wantsStats = stats;
    if (starts) this.sendOwnSlice(conn);
  }

  /** A new peer link: it gets this VNet's whole slice, and whether load figures are wanted here. */
  peerUp(conn: Connection): void {
    this.sendOwnSlice(conn);
    if (this.#toldWatching)
      sendControlFrame(conn, encodeControl(this.#host.id, { t: 'watch', stats: true }), this.#host.drops);
  }

  /** Tells every peer when whether some local VNic wants load figures changed. */
  #syncWatch(): void {
    const h = this.#host;
    let watching = false;
    for (const c of h.locals.values()) watching ||= c.wantsStats;
    if (watching === this.#toldWatching) return;
    this.#toldWatching = watching;
    const frame = encodeControl(h.id, { t: 'watch', stats: watching });
    for (const p of h.peers.values()) sendControlFrame(p, frame, h.drops);
  }

  /**
   * Applies a delta of peer `from`'s slice (checked by the admission guard) and queues it for local
   * VNics, in parts that fit every VNic's frame maximum. Asks the peer for its whole slice when the
   * delta does not follow the last one.
   */
  applyPeerDelta(from: Connection, delta: HealthDelta): void {
    const h = this.#host;
    const routing = (delta.full && delta.part !== true) || deltaChangesRouting(h.health, delta.upsert, delta.remove);
    const applied = h.health.applyDelta(delta, h.admission.guardFor(from));
    if (applied === undefined) {
      sendControlFrame(from, encodeControl(h.id, { t: 'resync' }), h.drops);
      return;
    }
    if (delta.stats === true && applied.upsert.length === 0) return;
    for (const [i, upsert] of chunkBy(applied.upsert, jsonBytes, HEALTH_FRAME_BYTES).entries()) {
      this.#localQueue.push(i === 0 ? { ...applied, upsert } : { ...applied, upsert, remove: [], part: true });
    }
    if (!delta.stats) this.flushLocals();
    if (routing) this.#onRouting();
  }

  /**
   * Writes records of this VNet's slice and sends the change to every peer and local VNic, as one delta
   * per chunk of about {@link HEALTH_FRAME_BYTES} (each with its own sequence).
   */
  publish(upsert: HealthRecord[], remove: NodeId[], stats = false): void {
    const routing = deltaChangesRouting(this.#host.health, upsert, remove);
    const parts = chunkBy(upsert, jsonBytes, HEALTH_FRAME_BYTES);
    for (const [i, part] of parts.entries()) this.#publishOne(part, i === 0 ? remove : [], stats);
    this.flushLocals();
    if (routing) this.#onRouting();
  }

  #publishOne(upsert: HealthRecord[], remove: NodeId[], stats: boolean): void {
    const h = this.#host;
    for (const r of upsert) h.health.upsert(r);
    for (const id of remove) h.health.remove(id);
    const delta: HealthDelta = { vnet: h.id, seq: stats ? this.#seq : ++this.#seq, full: false, upsert, remove, stats };
    if (!stats) h.health.applyDelta({ ...delta, full: true, upsert: h.health.sliceOf(h.id), remove: [] });
    const frame = encodeControl(h.id, { t: 'health', delta });
    const to = stats ? [...h.peers.values()].filter((c) => c.wantsStats) : h.peers.values();
    this.#counters.healthSent += broadcastHealth(to, frame, h.drops, h.options.maxQueuedBytes);
    this.#localQueue.push(delta);
  }

  /**
   * Sends the queued deltas (peers' stats deltas wait here for the next round) to the local VNics:
   * all of them to those that want load figures, the membership deltas to the others.
   */
  flushLocals(): void {
    if (this.#localQueue.length === 0) return;
    const queue = this.#localQueue;
    this.#localQueue = [];
    const [watchers, others] = partition(this.#host.locals.values(), (c) => c.wantsStats);
    this.#sendLocals(watchers, queue);
    this.#sendLocals(
      others,
      queue.filter((d) => d.stats !== true),
    );
  }

  #sendLocals(conns: readonly Connection[], queue: readonly HealthDelta[]): void {
    if (conns.length === 0 || queue.length === 0) return;
    const h = this.#host;
    for (const deltas of chunkBy(queue, jsonBytes, HEALTH_FRAME_BYTES)) {
      const frame = encodeControl(h.id, { t: 'health', deltas });
      this.#counters.healthSent += broadcastHealth(conns, frame, h.drops, h.options.maxQueuedBytes);
    }
  }

  /** Sends a peer this VNet's whole slice, in chunks that respect its queue. */
  sendOwnSlice(conn: Connection): void {
    const h = this.#host;
    const snapshot = (): SliceSnapshot[] => [{ vnet: h.id, seq: this.#seq, records: h.health.sliceOf(h.id) }];
    void sendDump(conn, h.id, snapshot, (delta): ControlBody => ({ t: 'health', delta }));
  }

  /** Sends a local VNic every writer's slice, in chunks that respect its queue. */
  sendDump(conn: Connection): void {
    const h = this.#host;
    const snapshot = (): SliceSnapshot[] =>
      h.health.writers().map((vnet) => ({
        vnet,
        seq: vnet === h.id ? this.#seq : (h.health.seqOf(vnet) ?? 0),
        records: h.health.sliceOf(vnet),
      }));
    void sendDump(conn, h.id, snapshot, (d): ControlBody => ({ t: 'health', deltas: [d] }));
  }

  /** Samples this VNet's load and publishes it with the local VNics' figures received since the last round. */
  statsRound(): void {
    const h = this.#host;
    const own = h.health.get(h.id);
    if (own === undefined) return;
    const changed: HealthRecord[] = [{ ...own, stats: this.#sampler.sample(trafficOf(h)), updatedAt: Date.now() }];
    for (const id of this.#dirty) {
      const r = h.health.get(id);
      if (r !== undefined) changed.push(r);
    }
    this.#dirty.clear();
    this.#syncWatch();
    this.publish(changed, [], true);
  }

  #record(
    id: NodeId,
    alias: string,
    role: 'vnic' | 'vnet',
    services: HealthRecord['services'],
    startedAt: number,
    subject: string | undefined,
  ): HealthRecord {
    const r: HealthRecord = {
      id,
      vnet: this.#host.id,
      alias,
      role,
      services,
      status: 'up',
      startedAt,
      updatedAt: Date.now(),
    };
    return subject === undefined ? r : { ...r, subject };
  }
}

/** Splits `items` by `test`: those that pass, then the others. */
function partition<T>(items: Iterable<T>, test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}

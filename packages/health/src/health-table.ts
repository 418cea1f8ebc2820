import type { NodeId } from '@layer8/protocol';
import type { HealthDelta, HealthRecord } from './record.ts';

/** What changed in a {@link HealthTable}. */
export interface HealthEvent {
  readonly type: 'added' | 'changed' | 'unreachable' | 'removed';
  readonly record: HealthRecord;
}

/**
 * Decides whether a delta's writer may write `record` (the VNet passes one that keeps a peer inside its
 * own slice and off ids pinned elsewhere). A refused record is skipped; the rest of the delta applies.
 */
export type RecordGuard = (record: HealthRecord) => boolean;

/** Listener of {@link HealthTable.onChange}. */
export type HealthListener = (event: HealthEvent) => void;

/**
 * What a reader of the replicated table may do: look up and listen, never write. A VNic hands this out
 * (`vnic.health`); only the VNet's deltas change the table behind it.
 */
export interface HealthView {
  readonly size: number;
  /** The record of `id`, if known. */
  get(id: NodeId): HealthRecord | undefined;
  /** Every record. */
  all(): HealthRecord[];
  /** The records written by `vnet`. */
  sliceOf(vnet: NodeId): HealthRecord[];
  /** Ids of the nodes that host (service, area), up or not. */
  hosts(service: string, area: number): NodeId[];
  /** Records of the reachable nodes that host (service, area). */
  instances(service: string, area: number): HealthRecord[];
  /** Ids of every writer VNet with a slice in the table. */
  writers(): NodeId[];
  /** Registers a listener; returns the function that removes it. */
  onChange(listener: HealthListener): () => void;
}

function indexKey(service: string, area: number): string {
  return `${area}/${service}`;
}

/**
 * The replicated health table: every node's record, an index from (service, area) to the nodes that
 * host it, and per-writer sequence tracking for deltas.
 *
 * Invariants: `#index` holds exactly the services of the records in `#records`; `#slices` the ids of the
 * records per writer (no empty set), so that a slice is read in O(its size), not O(table); `#seq` holds,
 * for each writer VNet, the sequence of the last delta applied from it.
 */
export class HealthTable implements HealthView {
  readonly #records = new Map<NodeId, HealthRecord>();
  readonly #index = new Map<string, Set<NodeId>>();
  readonly #seq = new Map<NodeId, number>();
  readonly #listeners = new Set<HealthListener>();
  /** Ids of the records of each writer VNet (its slice). */
  readonly #slices = new Map<NodeId, Set<NodeId>>();
  /** Records and removals refused by {@link HealthTable.applyDelta} (another writer's slice, or the guard). */
  skipped = 0;

  /** Number of records. */
  get size(): number {
    return this.#records.size;
  }

  /** A read-only view of this table (an object of its own: a caller cannot reach the writers). */
  view(): HealthView {
    const table = this;
    const view: HealthView = {
      get size() {
        return table.size;
      },
      get: (id) => this.get(id),
      all: () => this.all(),
      sliceOf: (vnet) => this.sliceOf(vnet),
      hosts: (service, area) => this.hosts(service, area),
      instances: (service, area) => this.instances(service, area),
      writers: () => this.writers(),
      onChange: (listener) => this.onChange(listener),
    };
    return Object.freeze(view);
  }

  /** The record of `id`, if known. */
  get(id: NodeId): HealthRecord | undefined {
    return this.#records.get(id);
  }

  /** Every record, in insertion order. */
  all(): HealthRecord[] {
    return [...this.#records.values()];
  }

  /** The records written by `vnet` (its own and its nodes'). */
  sliceOf(vnet: NodeId): HealthRecord[] {
    const out: HealthRecord[] = [];
    for (const id of this.#slices.get(vnet) ?? []) out.push(this.#records.get(id) as HealthRecord);
    return out;
  }

  /** Ids of the nodes that host (service, area), up or not, in a stable order. */
  hosts(service: string, area: number): NodeId[] {
    const set = this.#index.get(indexKey(service, area));
    return set === undefined ? [] : [...set];
  }

  /** Records of the reachable nodes that host (service, area). */
  instances(service: string, area: number): HealthRecord[] {
    const out: HealthRecord[] = [];
    for (const id of this.#index.get(indexKey(service, area)) ?? []) {
      const r = this.#records.get(id);
      if (r !== undefined && r.status === 'up') out.push(r);
    }
    return out;
  }

  /** Sequence of the last delta applied from writer `vnet`, if any. */
  seqOf(vnet: NodeId): number | undefined {
    return this.#seq.get(vnet);
  }

  /** Ids of every writer VNet with a slice in the table. */
  writers(): NodeId[] {
    return [...this.#slices.keys()];
  }

  /** Registers a listener; returns the function that removes it. */
  onChange(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Number of records written by `vnet`. */
  sliceSize(vnet: NodeId): number {
    return this.#slices.get(vnet)?.size ?? 0;
  }

  /** Inserts or replaces a record. */
  upsert(record: HealthRecord): void {
    const old = this.#records.get(record.id);
    if (old !== undefined) this.#unindex(old);
    if (old?.vnet !== record.vnet) {
      if (old !== undefined) this.#leaveSlice(old);
      this.#joinSlice(record);
    }
    this.#records.set(record.id, record);
    this.#indexRecord(record);
    const type =
      old === undefined ? 'added' : record.status === 'unreachable' && old.status === 'up' ? 'unreachable' : 'changed';
    this.#emit({ type, record });
  }

  /** Removes a record; returns whether it existed. */
  remove(id: NodeId): boolean {
    const old = this.#records.get(id);
    if (old === undefined) return false;
    this.#unindex(old);
    this.#leaveSlice(old);
    this.#records.delete(id);
    this.#emit({ type: 'removed', record: old });
    return true;
  }

  /** Removes every record written by `vnet` and forgets its sequence. */
  dropSlice(vnet: NodeId): void {
    for (const r of this.sliceOf(vnet)) this.remove(r.id);
    this.#seq.delete(vnet);
  }

  /**
   * Applies a delta from its writer and returns what was applied (the delta to pass on), or undefined,
   * applying nothing, when the delta is not full and its sequence does not follow the last one applied
   * from that writer (the caller asks for a resync). A writer only ever writes its own slice: records
   * naming another VNet, records `guard` refuses and removals of ids outside the writer's slice are
   * skipped (counted in {@link HealthTable.skipped}) and left out of the returned delta.
   */
  applyDelta(delta: HealthDelta, guard?: RecordGuard): HealthDelta | undefined {
    if (delta.stats === true && !delta.full) return this.#applyStats(delta, guard);
    const last = this.#seq.get(delta.vnet);
    if (delta.part === true ? last !== delta.seq : !delta.full && (last === undefined || delta.seq !== last + 1)) {
      return undefined;
    }
    const upsert = delta.upsert.filter((r) => r.vnet === delta.vnet && (guard === undefined || guard(r)));
    const remove = delta.remove.filter((id) => this.#records.get(id)?.vnet === delta.vnet);
    this.skipped += delta.upsert.length - upsert.length + delta.remove.length - remove.length;
    if (delta.full && delta.part !== true) this.#replaceSlice(delta.vnet, upsert);
    else {
      for (const r of upsert) this.upsert(r);
      for (const id of remove) this.remove(id);
    }
    this.#seq.set(delta.vnet, delta.seq);
    return { ...delta, upsert, remove };
  }

  /**
   * A `stats` delta (load figures only): applied to the records of its writer's slice this table already
   * has, and only when the table is at the delta's sequence (the records' other fields are then the
   * writer's); otherwise nothing is applied and nothing is asked (a membership delta will show any gap).
   * Never changes the sequence.
   */
  #applyStats(delta: HealthDelta, guard: RecordGuard | undefined): HealthDelta {
    if (this.#seq.get(delta.vnet) !== delta.seq) return { ...delta, upsert: [], remove: [] };
    const upsert = delta.upsert.filter(
      (r) => r.vnet === delta.vnet && this.#records.get(r.id)?.vnet === delta.vnet && (guard === undefined || guard(r)),
    );
    this.skipped += delta.upsert.length - upsert.length + delta.remove.length;
    for (const r of upsert) this.upsert(r);
    return { ...delta, upsert, remove: [] };
  }

  #replaceSlice(writer: NodeId, upsert: readonly HealthRecord[]): void {
    const keep = new Set(upsert.map((r) => r.id));
    for (const r of this.sliceOf(writer)) if (!keep.has(r.id)) this.remove(r.id);
    for (const r of upsert) this.upsert(r);
  }

  #joinSlice(r: HealthRecord): void {
    const ids = this.#slices.get(r.vnet);
    if (ids === undefined) this.#slices.set(r.vnet, new Set([r.id]));
    else ids.add(r.id);
  }

  #leaveSlice(r: HealthRecord): void {
    const ids = this.#slices.get(r.vnet);
    ids?.delete(r.id);
    if (ids?.size === 0) this.#slices.delete(r.vnet);
  }

  #indexRecord(r: HealthRecord): void {
    for (const s of r.services) {
      const key = indexKey(s.service, s.area);
      const set = this.#index.get(key) ?? new Set<NodeId>();
      set.add(r.id);
      this.#index.set(key, set);
    }
  }

  #unindex(r: HealthRecord): void {
    for (const s of r.services) {
      const key = indexKey(s.service, s.area);
      const set = this.#index.get(key);
      set?.delete(r.id);
      if (set?.size === 0) this.#index.delete(key);
    }
  }

  #emit(event: HealthEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // a listener's fault must not stop the table (or the link feeding it) from applying a delta
      }
    }
  }
}

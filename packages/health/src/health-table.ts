import type { NodeId } from '@layer8/protocol';
import type { HealthDelta, HealthRecord } from './record.ts';

/** What changed in a {@link HealthTable}. */
export interface HealthEvent {
  readonly type: 'added' | 'changed' | 'unreachable' | 'removed';
  readonly record: HealthRecord;
}

/** Listener of {@link HealthTable.onChange}. */
export type HealthListener = (event: HealthEvent) => void;

function indexKey(service: string, area: number): string {
  return `${area}/${service}`;
}

/**
 * The replicated health table: every node's record, an index from (service, area) to the nodes that
 * host it, and per-writer sequence tracking for deltas.
 *
 * Invariants: `#index` holds exactly the services of the records in `#records`; `#seq` holds, for each
 * writer VNet, the sequence of the last delta applied from it.
 */
export class HealthTable {
  readonly #records = new Map<NodeId, HealthRecord>();
  readonly #index = new Map<string, Set<NodeId>>();
  readonly #seq = new Map<NodeId, number>();
  readonly #listeners = new Set<HealthListener>();

  /** Number of records. */
  get size(): number {
    return this.#records.size;
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
    return this.all().filter((r) => r.vnet === vnet);
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
    return [...new Set(this.all().map((r) => r.vnet))];
  }

  /** Registers a listener; returns the function that removes it. */
  onChange(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Inserts or replaces a record. */
  upsert(record: HealthRecord): void {
    const old = this.#records.get(record.id);
    if (old !== undefined) this.#unindex(old);
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
   * Applies a delta from its writer. Returns false, applying nothing, when the delta is not full and
   * its sequence does not follow the last one applied from that writer (the caller asks for a resync).
   */
  applyDelta(delta: HealthDelta): boolean {
    const last = this.#seq.get(delta.vnet);
    if (!delta.full && (last === undefined || delta.seq !== last + 1)) return false;
    if (delta.full) this.#replaceSlice(delta);
    else {
      for (const r of delta.upsert) this.upsert(r);
      for (const id of delta.remove) this.remove(id);
    }
    this.#seq.set(delta.vnet, delta.seq);
    return true;
  }

  #replaceSlice(delta: HealthDelta): void {
    const keep = new Set(delta.upsert.map((r) => r.id));
    for (const r of this.sliceOf(delta.vnet)) if (!keep.has(r.id)) this.remove(r.id);
    for (const r of delta.upsert) this.upsert(r);
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

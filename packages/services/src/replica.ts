import type { DescMessage, Message } from '@bufbuild/protobuf';
import { applyChangeSet, type ChangeSet, type NotificationSet } from '@layer8/model';
import type { EntityCache, Held } from './entity-cache.ts';
import { newer } from './entity-cache.ts';
import type { KeyedQueue } from './keyed-queue.ts';
import type { ServiceCounters } from './sla.ts';

/** A state fetched from another instance: the entity, or its deletion. */
export interface FetchedState<T extends Message = Message> {
  readonly version: number;
  readonly writer: string;
  readonly entity?: T;
}

/** What a replica needs from its service. */
export interface ReplicaHost<T extends Message> {
  readonly desc: DescMessage;
  readonly cache: EntityCache<T>;
  readonly queue: KeyedQueue;
  readonly counters: ServiceCounters;
  /** Makes `state` (or the deletion stamped `tomb`) durable and visible on this instance. */
  persist(key: string, state: Held<T> | undefined, tomb?: { version: number; writer: string }): Promise<void>;
  /** Asks `node` for its state of `key` (undefined: it holds nothing of it). */
  fetch(node: string, key: string): Promise<FetchedState<T> | undefined>;
}

/**
 * Applies the writes of other instances (best-effort replication, DESIGN.md §7): the newer state by
 * `(version, writer)` wins, so every instance ends on the same state in whatever order the changes
 * come. A change set that does not follow the held version (a gap, or a concurrent write of the same
 * version) is closed by fetching the writer's state.
 */
export class Replica<T extends Message = Message> {
  readonly #h: ReplicaHost<T>;

  constructor(host: ReplicaHost<T>) {
    this.#h = host;
  }

  /** Applies one notification from another instance, in order with the writes of its key. */
  apply(n: NotificationSet): Promise<void> {
    return this.#h.queue.run(n.modelKey, () => this.#apply(n));
  }

  /** Merges a state fetched from another instance (recovery, catch-up), keeping the newer one. */
  merge(key: string, s: FetchedState<T>): Promise<void> {
    return this.#h.queue.run(key, () => this.#merge(key, s));
  }

  async #apply(n: NotificationSet): Promise<void> {
    const { cache, counters } = this.#h;
    const key = n.modelKey;
    if (!this.#isNewer(key, n.version, n.source)) return void counters.ignored++;
    if (n.kind === 'delete') return this.#store(key, undefined, { version: n.version, writer: n.source });
    if (n.kind !== 'patch') return this.#store(key, { entity: n.entity as T, version: n.version, writer: n.source });
    const held = cache.held(key);
    const cs = n.changeSet as ChangeSet;
    if (held !== undefined && held.version === cs.fromVersion) {
      const next = applyChangeSet(this.#h.desc, held, cs);
      return this.#store(key, { ...next, writer: n.source });
    }
    // a gap, or two writers made the same version: the writer's own state settles it
    const fetched = await this.#h.fetch(n.source, key);
    counters.fetched++;
    if (fetched !== undefined) await this.#merge(key, fetched);
  }

  async #merge(key: string, s: FetchedState<T>): Promise<void> {
    if (!this.#isNewer(key, s.version, s.writer)) return;
    const stamp = { version: s.version, writer: s.writer };
    if (s.entity === undefined) return this.#store(key, undefined, stamp);
    return this.#store(key, { entity: s.entity, ...stamp });
  }

  #isNewer(key: string, version: number, writer: string): boolean {
    const cur = this.#h.cache.held(key) ?? this.#h.cache.tomb(key);
    return cur === undefined || newer(version, writer, cur.version, cur.writer);
  }

  async #store(key: string, state: Held<T> | undefined, tomb?: { version: number; writer: string }): Promise<void> {
    await this.#h.persist(key, state, tomb);
    this.#h.counters.replicated++;
  }
}

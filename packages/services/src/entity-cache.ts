import type { DescMessage, Message } from '@bufbuild/protobuf';
import { deepClone, keysOf, keyText, type QueryResult, runQuery, type TypeRegistry } from '@layer8/model';
import { l8error } from '@layer8/protocol';

/**
 * An entity as an instance holds it: the message, its version and the node that wrote that version.
 * `(version, writer)` orders the states of one key across instances (last writer wins on a tie of
 * versions), so every instance ends on the same state whatever order changes arrive in.
 */
export interface Held<T extends Message = Message> {
  readonly entity: T;
  readonly version: number;
  /** Node id of the writer of this version ('' when unknown, e.g. loaded from a store). */
  readonly writer: string;
}

/** A deletion as an instance remembers it, so an older write cannot bring the entity back. */
export interface Tombstone {
  readonly version: number;
  readonly writer: string;
}

/** Whether the state stamped `(v1, w1)` is newer than `(v2, w2)`. */
export function newer(v1: number, w1: string, v2: number, w2: string): boolean {
  return v1 > v2 || (v1 === v2 && w1 > w2);
}

/**
 * The entities of one stateful service instance, by primary key, with unique-key indexes, tombstones
 * and a query cache. Callers never hold the cache's objects: reads return clones.
 *
 * Invariants: `#order`, when defined, is the sorted union of the keys of `#items` and `#tombs` (a key
 * only moves between the two, so only a new key makes it stale); `#unique[i]` maps the i-th unique key's text of every held entity to its primary key, and
 * nothing else; a key is never in both `#items` and `#tombs`; `#queries` holds results computed since
 * the last change.
 */
export class EntityCache<T extends Message = Message> {
  readonly #desc: DescMessage;
  readonly #registry: TypeRegistry;
  readonly #uniques: readonly (readonly string[])[];
  readonly #items = new Map<string, Held<T>>();
  readonly #tombs = new Map<string, Tombstone>();
  readonly #unique: Map<string, string>[];
  #queries = new Map<string, QueryResult<T>>();
  /** Every key held or deleted, sorted; undefined after a key was added, until the next {@link page}. */
  #order: string[] | undefined;

  constructor(desc: DescMessage, registry: TypeRegistry) {
    this.#desc = desc;
    this.#registry = registry;
    this.#uniques = keysOf(desc).unique;
    this.#unique = this.#uniques.map(() => new Map());
  }

  get size(): number {
    return this.#items.size;
  }

  /** The held state of `key` (the cache's own object: internal callers only). */
  held(key: string): Held<T> | undefined {
    return this.#items.get(key);
  }

  /** The tombstone of `key`, if it was deleted. */
  tomb(key: string): Tombstone | undefined {
    return this.#tombs.get(key);
  }

  /** A copy of the entity of `key`. */
  get(key: string): T | undefined {
    const h = this.#items.get(key);
    return h === undefined ? undefined : (deepClone(this.#desc, h.entity) as T);
  }

  /** The primary key of the entity whose `fields` unique key has `text`. */
  byUnique(fields: readonly string[], text: string): string | undefined {
    const i = this.#uniques.findIndex((u) => u.join(',') === fields.join(','));
    return i < 0 ? undefined : this.#unique[i]?.get(text);
  }

  /**
   * Refuses `entity` under `key` when it takes a unique key another entity holds.
   * @throws L8_ERR_CONFLICT with `data.unique` (the fields) and `data.holder` (the other key)
   */
  checkUnique(key: string, entity: Message): void {
    this.#uniques.forEach((fields, i) => {
      const holder = this.#unique[i]?.get(keyText(this.#desc, entity, fields));
      if (holder !== undefined && holder !== key) {
        throw l8error('L8_ERR_CONFLICT', `unique key ${fields.join(',')} is held by ${this.#desc.name}<${holder}>`, {
          data: { unique: fields, holder },
        });
      }
    });
  }

  /** Holds `state` under `key` (it becomes the cache's: pass a clone). */
  set(key: string, state: Held<T>): void {
    if (!this.#items.has(key) && !this.#tombs.has(key)) this.#order = undefined;
    this.#unindex(key);
    this.#items.set(key, state);
    this.#tombs.delete(key);
    this.#uniques.forEach((fields, i) => {
      this.#unique[i]?.set(keyText(this.#desc, state.entity, fields), key);
    });
    this.#queries.clear();
  }

  /** Drops `key`, remembering the deletion as `tomb`. */
  remove(key: string, tomb: Tombstone): void {
    this.#unindex(key);
    this.#items.delete(key);
    this.#tombs.set(key, tomb);
    this.#queries.clear();
  }

  /** Every held state, in key order (the cache's own objects: internal callers only). */
  entries(): [string, Held<T>][] {
    return [...this.#items.entries()].sort(([a], [b]) => byKey(a, b));
  }

  /**
   * Up to `limit` states and tombstones in key order, after the key `after` (exclusive): a snapshot
   * page. The keys are sorted once and kept until a new key comes, so paging through N keys costs one
   * sort, not one per page. The states are the cache's own objects (internal callers only).
   */
  page(after: string | undefined, limit: number): { entries: [string, Held<T> | Tombstone][]; more: boolean } {
    this.#order ??= [...this.#items.keys(), ...this.#tombs.keys()].sort(byKey);
    const order = this.#order;
    const from = after === undefined ? 0 : firstAfter(order, after);
    const keys = order.slice(from, from + limit);
    const entries = keys.map((k): [string, Held<T> | Tombstone] => [
      k,
      (this.#items.get(k) ?? this.#tombs.get(k)) as Held<T>,
    ]);
    return { entries, more: from + limit < order.length };
  }

  /**
   * Runs an L8QL query over the held entities, or over those `visible` keeps (a user's scope: then the
   * paging and the total are of what the user may see). An unfiltered query repeated is answered from
   * the query cache until the next change. The items are copies unless `copy` is false (internal callers
   * that only read them, such as an encoder: then they are the cache's own, not to be changed or kept).
   * @throws L8_ERR_QUERY, L8_ERR_UNKNOWN_TYPE
   */
  query(text: string, visible?: (items: T[]) => T[], copy = true): QueryResult<T> {
    const r = visible === undefined ? this.#cached(text) : runQuery(this.#registry, text, visible(this.#entities()));
    return copy ? { ...r, items: r.items.map((m) => deepClone(this.#desc, m) as T) } : r;
  }

  #cached(text: string): QueryResult<T> {
    let r = this.#queries.get(text);
    if (r === undefined) {
      r = runQuery(this.#registry, text, this.#entities());
      if (this.#queries.size >= 256) this.#queries = new Map();
      this.#queries.set(text, r);
    }
    return r;
  }

  #entities(): T[] {
    return [...this.#items.values()].map((h) => h.entity);
  }

  #unindex(key: string): void {
    const old = this.#items.get(key);
    if (old === undefined) return;
    this.#uniques.forEach((fields, i) => {
      const text = keyText(this.#desc, old.entity, fields);
      if (this.#unique[i]?.get(text) === key) this.#unique[i]?.delete(text);
    });
  }
}

/** JavaScript's string order (UTF-16 code units): one order for every page of a snapshot. */
function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The index of the first key of sorted `order` greater than `after`. */
function firstAfter(order: readonly string[], after: string): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((order[mid] as string) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

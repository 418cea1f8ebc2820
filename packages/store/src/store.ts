/**
 * The storage interface every backend implements (docs/storage.md): entities of one model type by key, with
 * a version, scans in key order, L8QL queries and all-or-nothing batches. A write is durable when its
 * promise resolves.
 */
import type { DescMessage, Message } from '@bufbuild/protobuf';
import type { TypeRegistry } from '@layer8/model';

/** The backends of this package. */
export type StoreBackend = 'sqlite' | 'postgres' | 'memory';

/** One stored entity. */
export interface StoredItem<T extends Message = Message> {
  /** The entity key (usually `primaryKeyOf(type, item)`); any string without NUL characters. */
  readonly key: string;
  /** The entity version the caller keeps with it: a safe integer ≥ 0, stored and returned as is. */
  readonly version: number;
  readonly item: T;
}

/** One operation of a batch. */
export type StoreOp<T extends Message = Message> =
  | { readonly op: 'put'; readonly item: StoredItem<T> }
  | { readonly op: 'delete'; readonly key: string };

/** What a query returns: the page of matching entities and how many match before paging. */
export interface StoreQueryResult<T extends Message = Message> {
  readonly items: T[];
  /** Entities matching the where clause, before `limit` and `page`. */
  readonly total: number;
}

/** Options of {@link Store.scan}. */
export interface ScanOptions {
  /** Only keys after this one (exclusive), to resume a scan. */
  readonly after?: string;
  /** At most this many entities (an integer ≥ 0); default all. */
  readonly limit?: number;
}

/**
 * A store of the entities of one model type. Keys order by Unicode code point (the UTF-8 byte order) in
 * every backend. Every method rejects with L8_ERR_CLOSED after `close()`, L8_ERR_STORAGE when the backend
 * fails (`retryable` when a retry may succeed: database unreachable, disk full, busy), and
 * L8_ERR_INVALID_ARGUMENT for a key, version or item that cannot be stored.
 */
export interface Store<T extends Message = Message> {
  readonly backend: StoreBackend;
  /** Inserts or replaces the entity of `item.key`; durable when the promise resolves. */
  put(item: StoredItem<T>): Promise<void>;
  /** The entity of `key`, or undefined. */
  get(key: string): Promise<StoredItem<T> | undefined>;
  /** Deletes the entity of `key`; true when there was one. */
  delete(key: string): Promise<boolean>;
  /**
   * The entities in key order, read in pages (writes between pages are allowed; each page shows the
   * entities present when it is read).
   */
  scan(options?: ScanOptions): AsyncIterable<StoredItem<T>>;
  /** How many entities the store holds. */
  count(): Promise<number>;
  /**
   * Runs an L8QL entity query (`select … from Type where … sort-by … limit … page …`) through `bindQuery`
   * and `toSql`, with the in-memory interpreter's semantics; ties after the primary key break by key. The
   * select list does not narrow the items (project them with `projectRow`).
   * @throws L8_ERR_QUERY for a syntax or semantic error, another type than the store's, an aggregate or
   *   group-by query, or a path with no column (through a list or map); L8_ERR_UNKNOWN_TYPE.
   */
  query(l8ql: string): Promise<StoreQueryResult<T>>;
  /** Applies the operations in order in one transaction: all of them, or none when one fails. */
  batch(ops: readonly StoreOp<T>[]): Promise<void>;
  /** Closes the store (idempotent); a pool passed in by the caller stays open. */
  close(): Promise<void>;
}

/** What every backend is opened with. */
export interface StoreOptions {
  /** The model type stored. */
  readonly type: DescMessage;
  /** The registry L8QL type names resolve in; it must hold `type`. */
  readonly registry: TypeRegistry;
  /** Table name; default the snake_case message name (`Order` → `order`). */
  readonly table?: string;
}

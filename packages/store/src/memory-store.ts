/**
 * The in-memory store: the reference the conformance suite compares every backend with (queries run through
 * the model's interpreter, `runQuery`), and a store for tests. It keeps each entity as its protobuf bytes, so
 * it checks and copies exactly what a database would; nothing survives `close()` or the process.
 */
import type { Message } from '@bufbuild/protobuf';
import { runQuery } from '@layer8/model';
import { l8error } from '@layer8/protocol';
import { checkKey, closedError, compareKeys, EntityCodec, scanBounds } from './entity-codec.ts';
import type { ScanOptions, Store, StoredItem, StoreOp, StoreOptions, StoreQueryResult } from './store.ts';

/** One entity: its bytes, and a private decoded copy that queries read. */
interface Entry {
  readonly version: number;
  readonly bytes: Uint8Array;
  readonly item: Message;
}

/** Entities per page of a scan (a scan sees writes made between pages, as the SQL stores do). */
const PAGE = 256;

/** A store held in memory (see the file comment). */
export function memoryStore(o: StoreOptions): Store {
  return new MemoryStore(new EntityCodec(o));
}

class MemoryStore implements Store {
  readonly backend = 'memory';
  readonly #codec: EntityCodec;
  readonly #entries = new Map<string, Entry>();
  /** The keys in code point order; undefined after a write until the next read needs it. */
  #sorted: string[] | undefined;
  #closed = false;

  constructor(codec: EntityCodec) {
    this.#codec = codec;
  }

  async put(stored: StoredItem): Promise<void> {
    this.#checkOpen();
    const entry = this.#entry(stored);
    this.#apply([[stored.key, entry]]);
  }

  async get(key: string): Promise<StoredItem | undefined> {
    this.#checkOpen();
    checkKey(key);
    return this.#entries.has(key) ? this.#stored(key) : undefined;
  }

  async delete(key: string): Promise<boolean> {
    this.#checkOpen();
    checkKey(key);
    const had = this.#entries.has(key);
    this.#apply([[key, undefined]]);
    return had;
  }

  async *scan(options: ScanOptions = {}): AsyncIterable<StoredItem> {
    let { after, limit } = scanBounds(options);
    while (limit > 0) {
      this.#checkOpen();
      const keys = this.#keys();
      const start = after === undefined ? 0 : firstAfter(keys, after);
      const page = keys.slice(start, start + Math.min(limit, PAGE)).map((key) => this.#stored(key));
      for (const stored of page) yield stored;
      if (page.length < Math.min(limit, PAGE)) return;
      limit -= page.length;
      after = page.at(-1)?.key;
    }
  }

  async count(): Promise<number> {
    this.#checkOpen();
    return this.#entries.size;
  }

  async query(l8ql: string): Promise<StoreQueryResult> {
    this.#checkOpen();
    const bound = this.#codec.bind(l8ql);
    // in key order, so the interpreter's stable sort leaves ties in key order as the SQL stores do
    const entries = this.#keys().map((k) => this.#entries.get(k) as Entry);
    const bytesOf = new Map(entries.map((e) => [e.item, e.bytes]));
    const result = runQuery(
      this.#codec.registry,
      bound,
      entries.map((e) => e.item),
    );
    const items = result.items.map((item) => this.#codec.message(bytesOf.get(item) as Uint8Array));
    return { items, total: result.total };
  }

  async batch(ops: readonly StoreOp[]): Promise<void> {
    this.#checkOpen();
    if (!Array.isArray(ops)) throw l8error('L8_ERR_INVALID_ARGUMENT', 'a batch is an array of operations');
    this.#apply(ops.map((op) => this.#staged(op)));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
    this.#sorted = undefined;
  }

  /** A checked operation; nothing is applied until every operation of the batch is checked. */
  #staged(op: StoreOp): readonly [string, Entry | undefined] {
    if (op?.op === 'put') {
      const entry = this.#entry(op.item);
      return [op.item.key, entry];
    }
    if (op?.op !== 'delete') {
      throw l8error('L8_ERR_INVALID_ARGUMENT', 'a batch operation is {op: "put", item} or {op: "delete", key}');
    }
    checkKey(op.key);
    return [op.key, undefined];
  }

  #entry(stored: StoredItem): Entry {
    // a copy: the bytes must not change if the encoder reuses its buffer
    const bytes = this.#codec.encode(stored).slice();
    return { version: stored.version, bytes, item: this.#codec.message(bytes) };
  }

  /** A fresh copy of the entity of `key`, which is present. */
  #stored(key: string): StoredItem {
    const entry = this.#entries.get(key) as Entry;
    return this.#codec.decode(key, entry.version, entry.bytes);
  }

  #apply(changes: readonly (readonly [string, Entry | undefined])[]): void {
    for (const [key, entry] of changes) {
      if (entry === undefined) this.#entries.delete(key);
      else this.#entries.set(key, entry);
    }
    this.#sorted = undefined;
  }

  #keys(): string[] {
    this.#sorted ??= [...this.#entries.keys()].sort(compareKeys);
    return this.#sorted;
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(this.backend);
  }
}

/** The index of the first key after `after` in sorted `keys`. */
function firstAfter(keys: readonly string[], after: string): number {
  let [low, high] = [0, keys.length];
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareKeys(keys[mid] as string, after) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}
